#!/usr/bin/env python3
"""Prints which top-level modules of src/ each module imports (crate:: paths outside tests and comments),
for the module map in CONTRIBUTING.md. Usage: python3 dev/module-deps.py [repo-root]"""
import os,re,sys
root=sys.argv[1] if len(sys.argv)>1 else '.'
src=os.path.join(root,'src')
mods=sorted(m[:-3] if m.endswith('.rs') else m for m in os.listdir(src) if m not in('main.rs','lib.rs') and not m.endswith('_tests.rs'))
def files(m):
    p=os.path.join(src,m)
    if os.path.isdir(p):
        for dp,_,fs in os.walk(p):
            for f in fs:
                if f.endswith('.rs') and not f.endswith('tests.rs'): yield os.path.join(dp,f)
    else: yield p+'.rs'
def strip_tests(t):
    return t
for m in mods:
    deps=set()
    for f in files(m):
        t='\n'.join(l for l in open(f).read().split('\n') if not l.lstrip().startswith('//'))
        pref='ferry' if m=='cmd' else 'crate'
        for x in re.finditer(pref+r'::([a-z_]+)',t): deps.add(x.group(1))
        for x in re.finditer(pref+r'::\{([^}]*)\}',t,re.S):
            for y in re.finditer(r'(?:^|[,{\s])([a-z_]+)(?=::|\s*[,}]|$)',x.group(1)): deps.add(y.group(1))
        for x in re.finditer(r'super::super::([a-z_]+)',t): pass
    deps={d for d in deps if d in mods and d!=m}
    print(f"{m:10} -> {' '.join(sorted(deps))}")
