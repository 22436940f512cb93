"""Fuzzy path ranking for @ completion, and its incremental shortcuts."""

from __future__ import annotations

import random

from agent.fuzzy import EXACT, IN_NAME, IN_PATH, NAME_PREFIX, SCATTERED, FuzzyIndex

PATHS = [
    "src/server/pods.py",
    "src/server/protocol.py",
    "src/agent/pod.py",
    "docs/pods/overview.md",
    "tests/test_pod.py",
    "src/agent/podcast_helper.py",
    "scripts/p_o_d.sh",
    "README.md",
]


def test_tiers_rank_exact_then_prefix_then_name_then_path_then_scattered() -> None:
    matches = FuzzyIndex(PATHS).search("pod")
    by_path = {m.path: m.tier for m in matches}
    assert by_path["src/agent/pod.py"] == EXACT
    assert by_path["src/server/pods.py"] == NAME_PREFIX
    assert by_path["tests/test_pod.py"] == IN_NAME
    assert by_path["docs/pods/overview.md"] == IN_PATH
    assert by_path["scripts/p_o_d.sh"] == SCATTERED
    assert [m.path for m in matches][:3] == [
        "src/agent/pod.py",
        "src/server/pods.py",
        "src/agent/podcast_helper.py",
    ]
    assert "README.md" not in by_path


def test_case_insensitive_and_empty_query_gives_shortest_paths() -> None:
    index = FuzzyIndex(PATHS)
    assert index.search("README")[0].path == "README.md"
    assert [m.path for m in index.search("", limit=2)] == ["README.md", "scripts/p_o_d.sh"]


def test_typing_forward_gives_the_same_answers_as_a_fresh_index() -> None:
    rng = random.Random(7)
    words = ["alpha", "beta", "gamma", "delta", "server", "pods", "util"]
    paths = [
        "/".join(rng.choice(words) for _ in range(rng.randint(1, 4))) + f"_{n}.py"
        for n in range(3000)
    ]
    typing = FuzzyIndex(paths)
    for query in ("serverpods", "gautil", "zzz", "a"):
        for n in range(1, len(query) + 1):
            got = [(m.path, m.tier) for m in typing.search(query[:n], limit=20)]
            fresh = [(m.path, m.tier) for m in FuzzyIndex(paths).search(query[:n], limit=20)]
            assert got == fresh, query[:n]


def test_added_and_removed_paths_are_searchable_at_once() -> None:
    index = FuzzyIndex(PATHS)
    assert index.search("brandnew") == []
    index.add("lib/brandnew.py")
    assert index.search("brandnew")[0].path == "lib/brandnew.py"
    assert index.search("scrp")[0].path == "scripts/p_o_d.sh"  # the regex text was rebuilt
    index.remove_where(lambda p: p.startswith("lib/"))
    assert "lib/brandnew.py" not in index and index.search("brandnew") == []
