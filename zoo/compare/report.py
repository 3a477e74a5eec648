"""What ``zoo compare`` prints: one line per finished run, and the leaderboard table."""

from __future__ import annotations

from zoo.compare.results import Comparison, RunOutcome


def si(x: float | None) -> str:
    """A count or rate in k/M units, ``-`` when unknown."""
    if x is None:
        return "-"
    for unit, scale in (("M", 1e6), ("k", 1e3)):
        if abs(x) >= scale:
            return f"{x / scale:.1f}{unit}"
    return f"{x:.0f}"


def describe(o: RunOutcome, metric: str) -> str:
    """The one summary line printed when a run ends."""
    value = "n/a" if o.metric is None else f"{o.metric:.4g}"
    speed = f", {si(o.tokens_per_sec)} tok/s" if o.tokens_per_sec else ""
    target = (f", target at {o.time_to_target:.1f}s (step {o.steps_to_target})"
              if o.time_to_target is not None else "")
    return f"{metric}={value} after {o.steps} steps in {o.seconds:.1f}s{speed}{target}"


def leaderboard(c: Comparison) -> str:
    """The table ``zoo compare`` prints: one line per model, best first."""
    arrow = "higher is better" if c.mode == "max" else "lower is better"
    target = f", target {c.target:g}" if c.target is not None else ""
    seeds = len(c.seeds)
    head = ["#", "model" + (" and setting" if c.vary else ""), f"{c.metric} (mean ± sd)", "params", "tok/s"]
    if c.target is not None:
        head.append("time to target")
    lines = []
    for n, r in enumerate(c.rows, 1):
        if r.metric_mean is None:
            value = "failed"
        else:
            value = f"{r.metric_mean:.4f} ± {r.metric_spread:.4f}"
        row = [str(n), r.model, value, si(r.params), si(r.tokens_per_sec)]
        if c.target is not None:
            row.append(f"{r.time_to_target:.1f}s, {r.steps_to_target:.0f} steps ({r.reached}/{seeds})"
                       if r.reached else f"not reached (0/{seeds})")
        lines.append(row)
    widths = [max(len(x) for x in col) for col in zip(head, *lines, strict=True)]
    fmt = "  ".join(f"{{:{'<' if i in (1, 2, 5) else '>'}{w}}}" for i, w in enumerate(widths))
    budget = ", ".join(f"{k} {v}" for k, v in c.budget.items() if v is not None) or "task defaults"
    threads = f"; threads: {c.threads}" if c.threads else ""
    title = f"{c.task}: {c.metric} ({arrow}{target}); budget: {budget}; seeds: {seeds}{threads}"
    return "\n".join([title, *(fmt.format(*row).rstrip() for row in [head, *lines])])
