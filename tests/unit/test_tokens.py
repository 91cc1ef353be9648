import base64
import json
import time

import jwt
import pytest

from imageboard.tokens import InvalidToken, issue_token, verify_token

CONFIG = {"JWT_SECRET": "s" * 32, "JWT_LIFETIME_SECONDS": 60}


def _b64(data):
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_issued_token_carries_the_contract_claims():
    claims = verify_token(CONFIG["JWT_SECRET"], issue_token(CONFIG, 7, "alice", True))
    assert claims["sub"] == "7" and claims["user_id"] == 7
    assert claims["username"] == "alice" and claims["is_admin"] is True
    assert claims["exp"] - claims["iat"] == 60
    assert jwt.get_unverified_header(issue_token(CONFIG, 7, "a", False))["alg"] == "HS256"


def test_expired_token_rejected():
    token = jwt.encode({"sub": "1", "exp": int(time.time()) - 1}, CONFIG["JWT_SECRET"], "HS256")
    with pytest.raises(InvalidToken):
        verify_token(CONFIG["JWT_SECRET"], token)


def test_wrong_key_rejected():
    token = issue_token(dict(CONFIG, JWT_SECRET="other" * 8), 1, "a", False)
    with pytest.raises(InvalidToken):
        verify_token(CONFIG["JWT_SECRET"], token)


def test_alg_none_rejected():
    token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64({'sub': '1', 'exp': int(time.time()) + 60})}."
    with pytest.raises(InvalidToken):
        verify_token(CONFIG["JWT_SECRET"], token)


def test_tampered_admin_claim_rejected():
    header, payload, signature = issue_token(CONFIG, 1, "a", False).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["is_admin"] = True
    with pytest.raises(InvalidToken):
        verify_token(CONFIG["JWT_SECRET"], f"{header}.{_b64(claims)}.{signature}")


def test_token_without_exp_rejected():
    token = jwt.encode({"sub": "1"}, CONFIG["JWT_SECRET"], "HS256")
    with pytest.raises(InvalidToken):
        verify_token(CONFIG["JWT_SECRET"], token)
