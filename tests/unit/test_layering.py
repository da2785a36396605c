"""The shape of the code, read from its source with `ast` (nothing is imported):

- modules import each other without cycles, and with no import hidden in a
  function to dodge one;
- identity is a leaf below social and finance: it imports none of them, nor api;
- `db.transact.commit` is the one way a transaction is sent: no code outside
  `db/` sends one itself or writes its own retry-with-backoff loop;
- `db/` owns the keys: no key string is built outside it.
"""
import ast
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "chalicelib"

# Imports that stay inside a function on purpose: third-party packages a cold
# start does not need (bench/deps_app.py leaves them out for that reason).
LAZY_IMPORTS = {
    ("chalicelib.identity.passwords", "argon2"),             # only signup, login and password changes hash
    ("chalicelib.identity.passwords", "argon2.exceptions"),
    # PyJWT pulls in `cryptography`: ~180M instructions of a 1,480M `import app` (callgrind, bytecode cached)
    ("chalicelib.identity.tokens", "jwt"),
    # AES-GCM alone still loads cryptography's core and Rust bindings: ~25M; only 2FA and card data seal and open
    ("chalicelib.crypto.envelope", "cryptography.hazmat.primitives.ciphers.aead"),
    ("chalicelib.crypto.envelope", "cryptography.exceptions"),
    # and Flock's own modules only the OpenAPI document needs (some seventy pydantic classes)
    ("chalicelib.api.openapi", "chalicelib.api.responses"),
    ("chalicelib.finance.business_days", "holidays"),        # 40 ms of calendars only check deposits need
}


def _module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _sources() -> dict[str, tuple[pathlib.Path, ast.Module]]:
    return {_module_name(p): (p, ast.parse(p.read_text(), str(p))) for p in sorted(PACKAGE.rglob("*.py"))}


SOURCES = _sources()


def _imported(node, modules) -> list[str]:
    """The chalicelib modules an import statement loads: `from a.b import c`
    is module a.b.c where that is a module, else a.b."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name in modules]
    if node.level or not node.module or node.module not in modules and not node.module.startswith("chalicelib"):
        return []
    found = []
    for alias in node.names:
        sub = f"{node.module}.{alias.name}"
        found.append(sub if sub in modules else node.module)
    return [m for m in found if m in modules]


def _lazy_imports(tree) -> list[str]:
    """The modules a module defers with `lazy.module("a.b")` (chalicelib/lazy.py):
    imports all the same, for the graph and every rule read from it."""
    return [node.args[0].value for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "module"
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "lazy"
            and node.args and isinstance(node.args[0], ast.Constant)]


def _graph() -> dict[str, set[str]]:
    return {name: {m for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
                   for m in _imported(node, SOURCES) if m != name}
            | {m for m in _lazy_imports(tree) if m in SOURCES and m != name}
            for name, (_, tree) in SOURCES.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_graph_sees_the_imports_it_should():
    graph = _graph()
    assert "chalicelib.finance.ledger" in graph["chalicelib.finance.transfers"]
    assert "chalicelib.db.balances" in graph["chalicelib.finance.ledger"]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_graph_sees_lazy_imports():
    graph = _graph()
    assert "chalicelib.api.inputs.wallet" in graph["chalicelib.api.wallet"]
    assert "chalicelib.api.openapi" in graph["chalicelib.api.docs"]


def test_lazy_modules_are_deferred_at_module_level_only():
    """`lazy.module` is a declaration, not a way to hide an import in a function."""
    inside = []
    for name, (path, tree) in SOURCES.items():
        for function in ast.walk(tree):
            if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)) and name != "chalicelib.lazy":
                inside += [f"{path.relative_to(ROOT)}:{function.lineno}" for _ in _lazy_imports(function)]
    assert inside == []


def test_no_import_cycles():
    assert _cycles(_graph()) == []


def test_no_imports_inside_functions():
    hidden = []
    for name, (path, tree) in SOURCES.items():
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.Import):
                    modules = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom):
                    modules = [node.module or ""]
                else:
                    continue
                hidden += [f"{path.relative_to(ROOT)}:{node.lineno} {m}" for m in modules
                           if (name, m) not in LAZY_IMPORTS]
    assert hidden == []


def test_identity_is_a_leaf_below_social_finance_and_api():
    above = ("chalicelib.social", "chalicelib.finance", "chalicelib.api", "chalicelib.jobs")
    graph = _graph()
    leaks = sorted(f"{name} -> {m}" for name in graph if name.startswith("chalicelib.identity")
                   for m in graph[name] if m.startswith(above))
    assert leaks == []


def _outside_db():
    for name, (path, tree) in SOURCES.items():
        if not name.startswith("chalicelib.db"):
            yield path.relative_to(ROOT), tree


# Who sends a transaction or retries one needs one of these; `db/` alone does.
COMMIT_NAMES = {"TransactWrite", "TransactWriteError", "_commit", "_send", "_refusals", "backoff", "sleep"}
RETRY_CODES = re.compile(r"TransactionConflict|Throttling(Error|Exception)|ProvisionedThroughputExceeded"
                         r"|TransactionCanceledException")


def test_transactions_are_sent_by_db_transact_commit_alone():
    found = []
    for path, tree in _outside_db():
        for node in ast.walk(tree):
            named = (node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name)
                     else None)
            if named in COMMIT_NAMES:
                found.append(f"{path}:{node.lineno} {named}")
            if isinstance(node, ast.Attribute) and node.attr == "commit" and not (
                    isinstance(node.value, ast.Name) and node.value.id == "transact"):
                found.append(f"{path}:{node.lineno} .commit")
            if isinstance(node, ast.ImportFrom) and node.module == "pynamodb.transactions":
                found.append(f"{path}:{node.lineno} pynamodb.transactions")
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and RETRY_CODES.search(node.value):
                found.append(f"{path}:{node.lineno} {node.value!r}")
    assert found == []


KEY_PREFIX = re.compile(r"^[A-Z][A-Z_]*#")


def _key_literals(tree) -> list[tuple[int, str]]:
    """String literals that start like a key ("ACCT#..."), f-strings too, and
    f-strings that join two values with "#" (a composite sort key)."""
    found = []
    parts_of_fstrings = {id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for part in node.values}
    for node in ast.walk(tree):
        if id(node) in parts_of_fstrings:
            continue
        if isinstance(node, ast.JoinedStr):
            parts = node.values
            first = parts[0] if parts else None
            if isinstance(first, ast.Constant) and KEY_PREFIX.match(str(first.value)):
                found.append((node.lineno, ast.unparse(node)))
            for before, middle, after in zip(parts, parts[1:], parts[2:]):
                if isinstance(before, ast.FormattedValue) and isinstance(after, ast.FormattedValue) \
                        and isinstance(middle, ast.Constant) and middle.value == "#":
                    found.append((node.lineno, ast.unparse(node)))
                    break
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and KEY_PREFIX.match(node.value):
            found.append((node.lineno, node.value))
    return sorted(set(found))


def test_the_key_check_finds_keys():
    tree = ast.parse('a = "ACCT#" + x\nb = f"PREQ_IN#{y}"\nc = f"{at}#{i}"\nd = "#not-a-key"\ne = f"#{z}"')
    assert [line for line, _ in _key_literals(tree)] == [1, 2, 3]


def test_no_key_strings_outside_db():
    found = [f"{path}:{line} {text}" for path, tree in _outside_db() for line, text in _key_literals(tree)]
    assert found == []
