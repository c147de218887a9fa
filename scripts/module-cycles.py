#!/usr/bin/env python3
"""Module import cycles of a crate's src/ directory, from the `crate::` and `super::` paths in each file.

The team's rule: no circle of imports bigger than two files. Exits 1 when a crate has one.
Usage: python3 scripts/module-cycles.py replicate-core/src [more/src ...]
Approximate by design: it reads paths as text (doc links count too), so it errs towards reporting."""
import os
import re
import sys


def modules(root):
    """Module path (`a::b`) -> source text, for every .rs file under root."""
    files = {}
    for d, _, names in os.walk(root):
        for name in names:
            if name.endswith('.rs'):
                rel = os.path.relpath(os.path.join(d, name), root)[:-3]
                if rel.endswith('/mod'):
                    rel = rel[:-4]
                with open(os.path.join(d, name), encoding='utf-8') as f:
                    files[rel.replace(os.sep, '::')] = f.read()
    return files


def edges(files):
    mods = set(files)

    def resolve(path):
        parts = path.split('::')
        for n in range(len(parts), 0, -1):
            m = '::'.join(parts[:n])
            if m in mods:
                return m
        return None

    graph = {m: set() for m in mods}
    for m, src in files.items():
        src = re.sub(r'#\[cfg\(test\)\]\s*mod tests\s*\{.*', '', src, flags=re.S)
        for g in re.finditer(r'crate::((?:\w+::)*\w+)(::\{([^;]*?)\})?', src):
            targets = [g.group(1)]
            for item in (g.group(3) or '').split(','):
                item = item.strip().split(' ')[0]
                if item and item != 'self':
                    targets.append(g.group(1) + '::' + item.split('::{')[0])
            for t in targets:
                r = resolve(t)
                if r and r not in (m, 'lib', 'main'):
                    graph[m].add(r)
        parent = '::'.join(m.split('::')[:-1])
        for g in re.finditer(r'\bsuper::(\w+)', src):
            r = resolve(f'{parent}::{g.group(1)}' if parent else g.group(1))
            if r and r != m:
                graph[m].add(r)
    return graph


def cycles(graph):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def main():
    bad = False
    for root in sys.argv[1:]:
        found = cycles(edges(modules(root)))
        for comp in found:
            print(f'{root}: {len(comp)} modules import each other: {", ".join(comp)}')
            bad |= len(comp) > 2
        if not found:
            print(f'{root}: no cycles')
    sys.exit(1 if bad else 0)


if __name__ == '__main__':
    main()
