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


def reference(paths: list[str], query: str, limit: int) -> list[tuple[str, int]]:
    """The ranking, spelled out one path at a time (what the index computes
    for every path at once)."""
    q = query.lower().strip()
    ranked: list[tuple[int, int, int, str]] = []
    for path in paths:
        line = path.lower()
        name = line.rsplit("/", 1)[-1]
        if q in line:
            if "/" not in q and (name == q or ("." not in q and name.startswith(q + "."))):
                tier = EXACT
            elif "/" not in q and name.startswith(q):
                tier = NAME_PREFIX
            elif "/" not in q and q in name:
                tier = IN_NAME
            else:
                tier = IN_PATH
            ranked.append((-tier, 0, len(line), path))
            continue
        start = at = line.find(q[0])
        for ch in q[1:]:
            at = line.find(ch, at + 1) if at >= 0 else -1
        if start >= 0 and at >= 0:
            ranked.append((-SCATTERED, at - start, len(line), path))
    ranked.sort(key=lambda r: (r[0], r[1], r[2], r[3].lower(), r[3]))
    return [(path, -tier) for tier, _, _, path in ranked[:limit]]


def corpus(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    words = ["server", "pods", "api", "Core", "util", "docs", "tést", "日本", "a.b", "x?y"]
    names = ["README.md", "readme.md", "index.ts", "__init__.py", "pod.py", "Makefile"]
    return sorted(
        {
            "/".join(rng.choice(words) for _ in range(rng.randint(0, 4)))
            + "/"
            + rng.choice([*names, f"{rng.choice(words)}_{n}.py"])
            for n in range(count)
        }
    )


def test_the_ranking_matches_one_path_at_a_time() -> None:
    paths = [p.lstrip("/") for p in corpus(3, 4000)]
    index = FuzzyIndex(paths)
    rng = random.Random(5)
    queries = ["readme", "readme.md", "pod", "/pods", "pods/", "a.b", "?", "x?y", "tést", "日本"]
    for path in rng.sample(paths, 30):
        picked = sorted(rng.sample(range(len(path)), min(len(path), rng.randint(1, 6))))
        queries += [path.rsplit("/", 1)[-1], "".join(path[i] for i in picked), path[-7:]]
    for query in queries:
        expected = reference(paths, query, 50)
        for limit in (5, 50):
            got = [(m.path, m.tier) for m in index.search(query, limit)]
            assert got == expected[:limit], (query, limit)


def test_updates_equal_a_fresh_index_and_leave_the_old_one() -> None:
    rng = random.Random(11)
    pool = [p.lstrip("/") for p in corpus(4, 3000)]
    paths = set(pool[:1500])
    index = FuzzyIndex(paths)
    for _ in range(30):
        removed: list[str] = []
        for _ in range(rng.choice([1, 3, 100])):
            doomed = rng.choice(sorted(paths))
            removed.append(doomed if rng.random() < 0.8 else doomed.rsplit("/", 1)[0])
        added = rng.sample(pool, rng.choice([1, 2, 90]))
        before = sorted(index.paths())
        updated = index.updated(removed, added)
        assert sorted(index.paths()) == before  # the old index still answers as it did
        for gone in removed:
            paths = {p for p in paths if p != gone and not p.startswith(gone + "/")}
        paths |= set(added)
        fresh = FuzzyIndex(paths)
        assert sorted(updated.paths()) == sorted(paths) and len(updated) == len(paths)
        for query in ("s", "pods", "readme", "ap_1", "tst"):
            assert updated.search(query, 20) == fresh.search(query, 20), query
        index = updated
