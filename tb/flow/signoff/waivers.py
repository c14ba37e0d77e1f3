"""The one coverage waiver file, ``docs/waivers.yml``: every exclusion with its reason.

Entries (a list under ``waivers:``), each with a non-empty ``reason``:

``code``   ``module`` (pattern) and optionally ``metric`` (line/toggle/expr), ``line`` and
           ``point`` (pattern over Verilator's point name, e.g. ``count_q[31]:*``)
``func``   ``bin``: a pattern, or a list of them, over ``<cover point>/<bin>``, e.g.
           ``melstm.features.band0?/255``

Patterns: ``*`` is any run of characters, ``?`` any one character; everything else, brackets
included, is literal (point names are full of ``[n]``).

A malformed entry is an error naming it: a waiver must never widen silently.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import yaml

from tb.kit.runner import ROOT

DEFAULT = ROOT / "docs" / "waivers.yml"
_KEYS = {"code": {"module", "metric", "line", "point", "reason"}, "func": {"bin", "reason"}}
_REQUIRED = {"code": {"module", "reason"}, "func": {"bin", "reason"}}


class WaiverError(ValueError):
    pass


@cache
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(re.escape(pattern).replace(r"\*", ".*").replace(r"\?", "."))


def matches(pattern: str | list[str], text: str) -> bool:
    """``text`` matches the pattern (or one of the patterns): ``*`` and ``?`` only."""
    pats = [pattern] if isinstance(pattern, str) else pattern
    return any(_regex(p).fullmatch(text) for p in pats)


def load(path: Path = DEFAULT) -> dict[str, list[dict]]:
    """``{"code": [...], "func": [...]}`` from ``path``, validated."""
    try:
        doc = yaml.safe_load(Path(path).read_text()) or {}
    except (OSError, yaml.YAMLError) as e:
        raise WaiverError(f"{path}: cannot read the waiver file: {e}") from None
    out: dict[str, list[dict]] = {"code": [], "func": []}
    for i, entry in enumerate(doc.get("waivers") or []):
        where = f"{path}: waiver {i + 1}"
        if not isinstance(entry, dict) or len(entry.keys() & _KEYS.keys()) != 1:
            raise WaiverError(f"{where}: give exactly one of 'code:' or 'func:'")
        kind = next(iter(entry.keys() & _KEYS.keys()))
        body = entry[kind]
        if not isinstance(body, dict):
            raise WaiverError(f"{where}: '{kind}:' must hold a mapping")
        unknown = set(body) - _KEYS[kind]
        missing = _REQUIRED[kind] - set(body)
        if unknown or missing:
            raise WaiverError(f"{where}: unknown keys {sorted(unknown)}, missing keys "
                              f"{sorted(missing)}")
        if not str(body["reason"]).strip():
            raise WaiverError(f"{where}: the reason is empty")
        pats = body.get("bin", body.get("module"))
        if not (isinstance(pats, str) or (isinstance(pats, list) and pats
                                           and all(isinstance(p, str) for p in pats))):
            raise WaiverError(f"{where}: the pattern must be a string or a list of strings")
        if "metric" in body and body["metric"] not in ("line", "toggle", "expr"):
            raise WaiverError(f"{where}: metric {body['metric']!r} is not line/toggle/expr")
        out[kind].append(dict(body))
    return out
