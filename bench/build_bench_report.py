#!/usr/bin/env python3
"""Summarizes bench/build_bench.sh's measurements: medians, kiln/buildah ratios and targets.

Input: a file of lines `FIGURE<TAB>TOOL<TAB>WALL_MS [...]<TAB>CPU_MS [...]`: each run's wall
time and the CPU time (user + system) of the command and its descendants, in milliseconds.
Targets are on wall-time medians; CPU medians are shown for information.
Prints a table and one PASS/MISS line per target; with --markdown FILE also writes the same
as a Markdown section body. Exits 1 when a target that could be evaluated was missed.
"""

import argparse
import statistics
import sys

# (figure, label) in the order they are shown.
FIGURES = [
    ("cold", "cold build (store holds only the base)"),
    ("noop", "no-op rebuild"),
    ("touch", "rebuild after `touch` of one source file"),
    ("edit_src", "rebuild after editing one source file"),
    ("edit_dep", "rebuild after editing one dependency file"),
    ("cold_many", "cold build, many-file context (information)"),
    ("noop_many", "no-op rebuild, many-file context"),
]

# (kind, figure, bound, text): "max_ms" = kiln's median at most bound; "speedup" = buildah's
# median / kiln's at least bound.
TARGETS = [
    ("max_ms", "noop", 50, "kiln no-op rebuild <= 50 ms"),
    ("max_ms", "touch", 50, "kiln rebuild after touch <= 50 ms"),
    ("speedup", "edit_src", 10, "one-source edit: kiln >= 10x faster than buildah"),
    ("speedup", "cold", 3, "cold build: kiln >= 3x faster than buildah"),
    ("speedup", "edit_dep", 3, "dependency edit: kiln >= 3x faster than buildah"),
    ("max_ms", "noop_many", 300, "kiln no-op rebuild on the many-file context <= 300 ms"),
]


def load(path):
    """Returns ({(figure, tool): [wall ms]}, {(figure, tool): [CPU ms]})."""
    wall, cpu = {}, {}
    with open(path) as f:
        for line in f:
            figure, tool, walls, cpus = line.rstrip("\n").split("\t")
            wall[(figure, tool)] = [float(v) for v in walls.split()]
            cpu[(figure, tool)] = [float(v) for v in cpus.split()]
    return wall, cpu


def fmt_ms(v):
    return "—" if v is None else (f"{v:.1f}" if v < 1000 else f"{v:.0f}")


def fmt_cpu(v):
    return "—" if v is None else f"{v:.0f}"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("figures")
    p.add_argument("--markdown", help="also write the table and verdicts as Markdown here")
    p.add_argument("--many-files", default="100,000", help="size of the many-file context")
    a = p.parse_args()
    runs, cpu_runs = load(a.figures)
    median = {k: statistics.median(v) for k, v in runs.items()}
    cpu = {k: statistics.median(v) for k, v in cpu_runs.items()}

    rows = []
    for figure, label in FIGURES:
        if figure.endswith("_many"):
            label = label.replace("many-file", a.many_files + "-file")
        k, b = median.get((figure, "kiln")), median.get((figure, "buildah"))
        if k is None and b is None:
            continue
        n = max(len(runs.get((figure, t), [])) for t in ("kiln", "buildah"))
        ratio = f"{k / b:.3f}" if k and b else "—"
        speedup = f"{b / k:.1f}×" if k and b else "—"
        rows.append((label, str(n), fmt_ms(k), fmt_ms(b), ratio, speedup,
                     fmt_cpu(cpu.get((figure, "kiln"))), fmt_cpu(cpu.get((figure, "buildah")))))

    verdicts, missed = [], False
    for kind, figure, bound, text in TARGETS:
        if figure.endswith("_many"):
            text = text.replace("many-file", a.many_files + "-file")
        k, b = median.get((figure, "kiln")), median.get((figure, "buildah"))
        if kind == "max_ms":
            if k is None:
                verdicts.append(("n/a", text, "kiln not measured"))
                continue
            ok, got = k <= bound, f"{k:.1f} ms"
        else:
            if k is None or b is None:
                verdicts.append(("n/a", text, "needs both tools"))
                continue
            ok, got = b / k >= bound, f"{b / k:.1f}x"
        missed |= not ok
        verdicts.append(("PASS" if ok else "MISS", text, got))

    head = ("figure", "runs", "kiln ms (median)", "buildah ms (median)", "kiln/buildah", "speedup",
            "kiln CPU ms", "buildah CPU ms")
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
    line = lambda r: "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                               for i, (c, w) in enumerate(zip(r, widths)))
    print(line(head))
    for r in rows:
        print(line(r))
    print()
    for verdict, text, got in verdicts:
        print(f"{verdict:4}  {text}: {got}")

    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write("| " + " | ".join(head) + " |\n")
            f.write("|---|" + "---:|" * (len(head) - 1) + "\n")
            for r in rows:
                f.write("| " + " | ".join(r) + " |\n")
            f.write("\n")
            for verdict, text, got in verdicts:
                f.write(f"- **{verdict}** {text}: {got}\n")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
