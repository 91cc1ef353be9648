"""The markdown tables `make bench` prints (and docs/performance.md carries) from its JSON
report: capacity per target, per route at capacity, CPU per process at capacity, the
secondary wrk rows and the RPC floor."""
from bench.mix import SHARES


def _ms(value):
    return "-" if value is None else f"{value:.1f}"


def _steps(result):
    return ", ".join(f"{s['rate']}{'' if s['passed'] else ' x'}" for s in result["steps"])


def capacity_table(capacity, limits):
    lines = [f"| capacity (p99 <= {limits['p99_ms']:g} ms, < 1% errors, < 1% dropped) | req/s "
             "| achieved rps | p50 ms | p99 ms | errors | dropped | steps (x: failed) |",
             "|---|---:|---:|---:|---:|---:|---:|---|"]
    for result in capacity.values():
        at = result["at_capacity"] or {}
        rate = result["capacity"]
        shown = "none passed" if rate is None else (
            f">= {rate} (the search's ceiling)" if result["ceiling_reached"] else str(rate))
        errors = at.get("error_rate")
        lines.append(f"| {result['target']} | **{shown}** | {at.get('rps', '-')} | "
                     f"{_ms(at.get('p50'))} | {_ms(at.get('p99'))} | "
                     f"{'-' if errors is None else f'{errors:.2%}'} | {at.get('dropped', '-')} | "
                     f"{_steps(result)} |")
    return "\n".join(lines)


def steps_table(capacity):
    lines = ["| target | rate req/s | achieved rps | p50 ms | p99 ms | errors | dropped | "
             "machine busy % | verdict |", "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for result in capacity.values():
        for s in result["steps"]:
            errors = s["error_rate"]
            lines.append(f"| {result['target']} | {s['rate']} | {s['rps']} | {_ms(s['p50'])} | "
                         f"{_ms(s['p99'])} | {'-' if errors is None else f'{errors:.2%}'} | "
                         f"{s['dropped']} | {(s.get('cpu') or {}).get('machine busy (all processes)', '-')} | "
                         f"{'pass' if s['passed'] else '; '.join(s['reasons'])} |")
    return "\n".join(lines)


def routes_table(capacity):
    targets = list(capacity.values())
    head = "| route | share |" + "".join(f" {t['target']} p50 ms | p99 ms |" for t in targets)
    lines = [head, "|---|---:|" + "---:|---:|" * len(targets)]
    for route, share in SHARES.items():
        row = f"| {route} | {share:.0%} |"
        for t in targets:
            r = ((t["at_capacity"] or {}).get("routes") or {}).get(route, {})
            row += f" {_ms(r.get('p50'))} | {_ms(r.get('p99'))} |"
        lines.append(row)
    return "\n".join(lines)


def cpu_table(capacity):
    targets = list(capacity.values())
    cpus = [((t["at_capacity"] or {}).get("cpu") or {}) for t in targets]
    labels = []
    for cpu in cpus:
        labels += [k for k in cpu if k not in labels and k != "elapsed s"]
    lines = ["| process (% of one core at capacity) |" + "".join(f" {t['target']} |"
                                                               for t in targets),
             "|---|" + "---:|" * len(targets)]
    for label in labels:
        lines.append(f"| {label} |" + "".join(
            f" {cpu[label]:.1f} |" if label in cpu else " - |" for cpu in cpus))
    return "\n".join(lines)


def wrk_table(results, floor):
    lines = ["| wrk, closed loop (secondary) | req/s | p50 ms | p99 ms | requests | "
             "errors (socket + non-2xx) |", "|---|---:|---:|---:|---:|---:|"]
    for name, r in results.items():
        lines.append(f"| {name} | {r['rps']:.0f} | {r['p50']:.1f} | {r['p99']:.1f} | "
                     f"{r['requests']:.0f} | {r['errors']:.0f} |")
    lines += ["", "| RPC floor (sequential) | calls/s | p50 ms | p99 ms |", "|---|---:|---:|---:|"]
    for f in floor:
        lines.append(f"| {f['name']} | {f['calls_per_s']:.0f} | {f['p50_ms']} | {f['p99_ms']} |")
    return "\n".join(lines)


def tables(report):
    parts = [capacity_table(report["capacity"], report["limits"]), "",
             routes_table(report["capacity"]), "", cpu_table(report["capacity"]), "",
             steps_table(report["capacity"])]
    if report["wrk"] or report["rpc_floor"]:
        parts += ["", wrk_table(report["wrk"], report["rpc_floor"])]
    return "\n".join(parts)
