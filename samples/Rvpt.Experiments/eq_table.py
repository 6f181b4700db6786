#!/usr/bin/env python3
"""Aggregates `gateb` logs of the shot-trained defences over few-shot seeds into docs/results.md's table form.

Usage: python3 samples/Rvpt.Experiments/eq_table.py 'artifacts/experiments/eq-w192-256shots-8ep-*.log'
Each log is one attack and seed, named ...-<attack><fraction>-s<seed>.log; its result line holds `<Defence> <ASR> (<CA>)
(<lr=...:validation* ...>)` per defence. Prints ASR (CA) as mean +- sample standard deviation over the seeds, the
share of the undefended ASR kept, and each seed's ASR with the learning rate its validation chose.
"""
import glob
import re
import statistics as st
import sys

NAMES = {'None': 'none', 'PlainVpt': 'plain VPT', 'LinearProbe': 'linear probe', 'Rvpt': '**RVPT**',
         'FullFineTuning': 'full fine-tuning', 'RepulsiveFineTuning': 'fine-tuning with the repelling term'}
ATTACKS = [('badnets', 'BadNets'), ('blended', 'Blended'), ('badclip', 'BadCLIP')]
RESULT = re.compile(r'(' + '|'.join(NAMES) + r') ([0-9.]+) \(([0-9.]+)\) \(([^)]*)\)')

rows, fractions = {}, {}
for path in sorted(glob.glob(sys.argv[1])):
    m = re.search(r'-([a-z]+)([0-9.]+)-s(\d+)\.log$', path)
    attack, fraction, seed = m.group(1), m.group(2), int(m.group(3))
    fractions[attack] = fraction
    for line in open(path):
        if 'planted in' not in line:
            continue
        for name, asr, ca, selection in RESULT.findall(line.split('planted in', 1)[1]):
            chosen = re.findall(r'lr=([0-9.eE-]+):[0-9.]+\*', selection)
            rows.setdefault((name, attack), []).append((seed, float(asr), float(ca), chosen[0] if chosen else ''))

present = [(a, t) for a, t in ATTACKS if ('None', a) in rows]
print('| defence | ' + ' | '.join(f'{t} {float(fractions[a]) * 100:g}% | kept' for a, t in present) + ' |')
print('|---|' + '---|---|' * len(present))
for name, label in NAMES.items():
    cells = []
    for attack, _ in present:
        runs = sorted(rows.get((name, attack), []))
        if not runs:
            cells += ['-', '-']
            continue
        asr = [r[1] for r in runs]
        ca = [r[2] for r in runs]
        if name == 'None':
            cells += [f'{asr[0]:.2f} ({ca[0]:.2f})', '']
            continue
        sd = lambda xs: f' ± {st.stdev(xs):.2f}' if len(xs) > 1 else ''
        mean = f'{st.mean(asr):.2f}{sd(asr)}'
        cell = f'{"**" + mean + "**" if name == "Rvpt" else mean} ({st.mean(ca):.2f}{sd(ca)})' + (f' [{len(runs)} seeds]' if len(runs) != 3 else '')
        baseline = st.mean(r[1] for r in rows[('None', attack)])
        cells += [cell, f'{100 * st.mean(asr) / baseline:.0f}%']
    print(f'| {label} | ' + ' | '.join(cells) + ' |')
print()
for (name, attack), runs in sorted(rows.items()):
    if name != 'None':
        print(f'{attack} {name}: ' + ', '.join(f's{s} {a:.2f} (lr {lr})' for s, a, _, lr in sorted(runs)))
