"""Cuts a minimized corpus down to a regression corpus of a given size.

    python3 fuzz/regressions/select.py <target> <merge control file> <budget in bytes> <out dir>

The control file comes from libFuzzer's merge over the minimized corpus (from fuzz/, with the
target's binary as `cargo fuzz build -O` leaves it):

    <binary> -merge=1 -merge_control_file=ctl.txt -max_len=65536 <empty dir> <minimized corpus>

Chosen first: the smallest input of each nesting depth (brackets, parentheses and braces; for
mustache, sections), deepest first, for up to a quarter of the budget, so that the replay keeps
inputs at and past the depth limits; then, greedily, the input adding the most libFuzzer
features per byte, until the budget is spent or nothing adds a feature.
"""
import os, re, shutil, sys
target, control, budget, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
lines = open(control).read().splitlines()
n = int(lines[0]); files = lines[2:2 + n]
features = {}
for line in lines[2 + n:]:
    if line.startswith("FT "):
        parts = line.split()
        features[int(parts[1])] = set(map(int, parts[2:]))
def depth(data):
    if target == "mustache":
        d = m = 0
        for tag in re.findall(rb"\{\{([#^/])", data):
            d = d + 1 if tag in (b"#", b"^") else d - 1
            m = max(m, d)
        return m
    d = m = 0
    for b in data:
        if b in b"[({": d += 1; m = max(m, d)
        elif b in b"])}": d = max(0, d - 1)
    return m
info = []
for i, path in enumerate(files):
    data = open(path, "rb").read()
    info.append((i, path, len(data), depth(data)))
chosen, covered, spent = [], set(), 0
by_depth = {}
for i, path, size, d in info:
    if d not in by_depth or size < by_depth[d][2]:
        by_depth[d] = (i, path, size, d)
for d in sorted(by_depth, reverse=True):
    i, path, size, _ = by_depth[d]
    if spent + size > budget // 4:
        continue
    chosen.append(i); covered |= features.get(i, set()); spent += size
left = [x for x in info if x[0] not in chosen]
while True:
    best, best_score = None, 0
    for x in left:
        gain = len(features.get(x[0], set()) - covered)
        if gain and spent + x[2] <= budget:
            score = gain / (x[2] + 64)
            if score > best_score:
                best, best_score = x, score
    if best is None:
        break
    chosen.append(best[0]); covered |= features.get(best[0], set()); spent += best[2]
    left.remove(best)
all_features = set().union(*features.values()) if features else set()
os.makedirs(out, exist_ok=True)
for i in chosen:
    shutil.copy(files[i], os.path.join(out, os.path.basename(files[i])))
print(f"{target}: {len(chosen)} of {n} inputs, {spent} bytes, {len(covered)} of {len(all_features)} features, depths kept: {sorted(by_depth, reverse=True)[:8]}")
