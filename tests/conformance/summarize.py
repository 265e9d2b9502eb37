#!/usr/bin/env python3
"""Table of the validation results in $CONF/out/<label>/ (default build/conformance) for the
labels given. Verdicts:
  PASS   exit 0, no `not ok` (the brief's criterion) and no error diagnostic
  PASS?  exit 0 and no `not ok`, but an empty plan (1..0) whose YAML
         diagnostic carries an "error": the binary found a spec violation
         or could not run its scenario but does not report it as `not ok`
         (a false pass; counted as a pass by the brief's criterion only);
         also an empty output from a binary that should print
         runtimetest's TAP (the container ran, runtimetest did not)
  FAIL   non-zero exit or a `not ok`"""
import re, sys, os
OUT = os.path.join(os.environ.get('CONF', 'build/conformance'), 'out')
labels = sys.argv[1:]
res = {}
for l in labels:
    for line in open(f'{OUT}/{l}/summary.txt'):
        m = re.match(r'(\S+)\s+(PASS|FAIL) rc=(\d+) ok=(\d+) not_ok=(\d+)', line)
        if not m:
            continue
        name, v, rc, ok, nok = m.group(1), m.group(2), int(m.group(3)), int(m.group(4)), int(m.group(5))
        tap = open(f'{OUT}/{l}/{name}.tap').read()
        if v == 'PASS' and ok == 0 and '"error"' in tap:
            v = 'PASS?'
        # an inside-the-container test whose runtimetest printed nothing:
        # the container ran but runtimetest never did (the *_fail tests
        # print nothing by design when create fails)
        if v == 'PASS' and not tap.strip() and not name.endswith('_fail'):
            v = 'PASS?'
        res[(l, name)] = (v, rc, ok, nok)
names = sorted({n for (_, n) in res})
print('| binary | ' + ' | '.join(labels) + ' |')
print('|---|' + '---|' * len(labels))
for n in names:
    cells = []
    for l in labels:
        v, rc, ok, nok = res.get((l, n), ('-', 0, 0, 0))
        detail = '' if v.startswith('PASS') else (f' (rc={rc})' if nok == 0 else f' ({nok} not ok)')
        cells.append(v + detail)
    print(f'| {n} | ' + ' | '.join(cells) + ' |')
loose = [sum(1 for n in names if res.get((l, n), ('',))[0].startswith('PASS')) for l in labels]
strict = [sum(1 for n in names if res.get((l, n), ('',))[0] == 'PASS') for l in labels]
print('| **passes (exit 0, no `not ok`)** | ' + ' | '.join(f'**{x}**' for x in loose) + ' |')
print('| **passes without a false pass (PASS only)** | ' + ' | '.join(f'**{x}**' for x in strict) + ' |')
