"""(e) PostgreSQL restarted under load: requests meeting the outage get 503 (never a
500), and every service recovers its connection pool by itself: afterwards each endpoint
answers 200 again without any process being restarted."""
import time

import pytest

from tests.faults.support import Load, PrivateStack, auth
from tests.private_servers import PrivatePostgres

pytestmark = pytest.mark.faults

SERVICES = ["users", "posts", "comments", "notifications"]


def test_services_recover_their_pools_after_a_postgres_restart():
    postgres = PrivatePostgres()
    try:
        with PrivateStack("fe", postgres=postgres, SERVICES=f"[{', '.join(SERVICES)}]") as stack:
            user = stack.register("fault_e_user")
            post = stack.create_post(user)
            actions = [
                lambda i: ("feed", "GET", "/api/posts/", {}),
                lambda i: ("detail", "GET", f"/api/posts/{post['id']}/", {}),
                lambda i: ("comments", "GET", f"/api/comments/?post_id={post['id']}", {}),
                lambda i: ("profile", "GET", f"/api/users/profile/{user['id']}/", {}),
                lambda i: ("notifications", "GET", "/api/notifications/", {"headers": auth(user)}),
                lambda i: ("comment", "POST", "/api/comments/",
                           {"headers": auth(user), "json": {"post_id": post["id"], "content": f"c{i}"}}),
            ]
            pids = {name: stack.pid(name) for name in SERVICES + ["gateway"]}
            with Load(stack.url, actions, threads=6) as load:
                time.sleep(3)
                stopped_at = time.monotonic()
                postgres.stop("fast")  # terminates every connection of every pool
                time.sleep(5)
                postgres.start()
                started_at = time.monotonic()
                recovered = {}
                deadline = time.monotonic() + 60
                while len(recovered) < len(actions) and time.monotonic() < deadline:
                    for _, name, status, _ in load.between(started_at, time.monotonic()):
                        if status in (200, 201) and name not in recovered:
                            recovered[name] = time.monotonic() - started_at
                    time.sleep(0.2)
                settled_at = time.monotonic() + 2
                time.sleep(7)
                ended_at = time.monotonic()

            during = load.between(stopped_at + 0.2, started_at)
            after = load.between(settled_at, ended_at)
            by_name_after = {name: Load.statuses([r for r in after if r[1] == name])
                             for name in {a(0)[0] for a in actions}}
            print(f"\nfault (e) postgres restart: before={Load.statuses(load.between(0, stopped_at))} "
                  f"during={Load.statuses(during)} recovered_after_s="
                  f"{ {k: round(v, 1) for k, v in sorted(recovered.items())} } "
                  f"after={by_name_after}")

            assert set(Load.statuses(during)) <= {200, 201, 503}, Load.statuses(during)
            assert 503 in Load.statuses(during)  # the outage was seen, and reported as 503
            assert len(recovered) == len(actions), recovered
            for name, statuses in by_name_after.items():
                assert statuses and set(statuses) <= {200, 201}, (name, statuses)
            assert not [r for r in load.records if r[2] == 0 or (r[2] >= 500 and r[2] != 503)]
            assert {name: stack.pid(name) for name in pids} == pids  # nothing was restarted
    finally:
        postgres.destroy()
