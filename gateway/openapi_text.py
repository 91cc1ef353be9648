"""The document's descriptions as API users read them: the references to the contract's
internal numbering ("decision 11", "v2 §3.3", "contract v2 section 6.4") that the source
keeps for its maintainers are taken out of the served text."""
import re

_REF = r"(?:contract\s+)?(?:v[12]\s+)?(?:decision|section|§)\s*\d+(?:\.\d+)*"
_ONLY_REF = re.compile(r"\s*\(" + _REF + r"\)", re.IGNORECASE)          # "(decision 1)"
_REF_THEN_TEXT = re.compile(r"\(" + _REF + r":\s*", re.IGNORECASE)      # "(v2 §3.3: ..."
_LEADING_REF = re.compile(r"^" + _REF + r"[:,]\s*", re.IGNORECASE)      # "v2 §3.1: ..."
TEXT_KEYS = ("description", "summary")


def readable(text):
    out = _ONLY_REF.sub("", text)
    out = _REF_THEN_TEXT.sub("(", out)
    stripped = _LEADING_REF.sub("", out)
    if stripped != out and stripped:
        stripped = stripped[0].upper() + stripped[1:]
    return stripped


def readable_document(node):
    """The same structure with every description and summary made readable (in place)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in TEXT_KEYS and isinstance(value, str):
                node[key] = readable(value)
            else:
                readable_document(value)
    elif isinstance(node, list):
        for item in node:
            readable_document(item)
    return node
