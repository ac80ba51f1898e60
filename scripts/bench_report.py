#!/usr/bin/env python3
"""Turns one run of ctnn_bench (Google Benchmark JSON) and the compile-cost CSV
into docs/benchmarks.md and a PNG plot.

usage: bench_report.py bench.json compile_cost.csv benchmarks.md benchmarks.png
                       [--busy bench_busy.json] [--avx2 bench_avx2.json]
"""
import csv
import datetime
import json
import platform
import sys


def load_times(path):
    """{run name: median real time in ns}, and the run's context."""
    data = json.load(open(path))
    times, counters = {}, {}
    for b in data["benchmarks"]:
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") in ("min", "max"):
            counters[b.get("run_name", b["name"]) + "@" + b["aggregate_name"]] = b
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
            continue
        name = b.get("run_name", b["name"])
        scale = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}[b.get("time_unit", "ns")]
        times[name] = b["real_time"] * scale
        counters[name] = b
    return times, counters, data["context"]


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def fmt_time(ns):
    if ns is None:
        return "—"
    if ns >= 1e6:
        return f"{ns / 1e6:.3f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} µs"
    return f"{ns:.0f} ns"


def best(times, prefix, variants):
    """The fastest of a peer's variants: (time, variant)."""
    found = [(times[prefix + v], v) for v in variants if prefix + v in times]
    return min(found) if found else (None, None)


def ratio(a, b):
    return None if a is None or b is None else b / a


def fmt_ratio(r):
    return "—" if r is None else f"{r:.2f}×"


def streaming_rows(times, peak1):
    """(cell, H, static, twin, torch, torch variant, floor) of each streaming row present."""
    rows = []
    for cell, gates in (("LSTM", 4), ("GRU", 3)):
        for h in (8, 16, 32, 64):
            prefix = f"{cell.lower()}_stream_h{h}/"
            st = times.get(prefix + "static")
            if st is None:
                continue
            t, tv = best(times, prefix, ["libtorch", "libtorch_functional"])
            flops = 2.0 * (gates * h * (1 + h) + h)
            # Below H = 32 a step is a few hundred FLOPs: its time is the
            # chain of dependent gate operations, not multiply-adds.
            floor = flops / peak1 * 1e9 if peak1 and h >= 32 else None
            rows.append((cell, h, st, times.get(prefix + "runtime"), t, tv, floor))
    return rows


def write_streaming(w, rows):
    fmt_ns = lambda ns: "—" if ns is None else f"{ns:,.0f} ns"
    w("## Streaming recurrent inference (one sample per step, 1 thread)")
    w("")
    w("A one-feature signal through an LSTM or a GRU of H units and a dense layer to one output "
      "(bench/recurrent_static.cpp), one sample per call with the state carried from call to call: "
      "ctnn::streaming for the static network; for the twin, a sequence of one step from the fed-back state "
      "through its predict_one; for LibTorch the faster of torch::lstm_cell / gru_cell with addmm_out "
      "(functional) and nn::LSTMCell / nn::GRUCell with nn::Linear, under c10::InferenceMode. The twin's LSTM "
      "rows carry h but not c (the twin gives no final cell state back): the same work per step, not a stream.")
    w("")
    w("| cell | H | ctnn static (per sample) | runtime twin | LibTorch | vs twin | vs LibTorch | FMA floor "
      "| static ÷ floor |")
    w("|---|---|---|---|---|---|---|---|---|")
    for cell, h, st, rt, t, tv, floor in rows:
        t_cell = fmt_ns(t) + (f" ({tv.replace('libtorch_', '')})" if tv and tv != "libtorch" else "")
        w(f"| {cell} | {h} | {fmt_ns(st)} | {fmt_ns(rt)} | {t_cell} | {fmt_ratio(ratio(st, rt))} "
          f"| {fmt_ratio(ratio(st, t))} | {fmt_ns(floor)} "
          f"| {fmt_ratio(None if floor is None else st / floor)} |")
    w("")
    w("FLOPs per step: 2·(G·H·(1 + H) + H), G = 4 gates (LSTM) or 3 (GRU), bias adds not counted. The floor "
      "(those FLOPs at the 1-thread FMA peak) is shown from H = 32: below it a step is a few hundred FLOPs and "
      "its time is the chain of dependent gate operations.")
    w("")


FLOPS = dict(
    tiny=2.0 * (16 * 64 + 64 * 64 + 64),
    mlp=2.0 * (784 * 256 + 256 * 128 + 128 * 10),
    lenet=4_600_760.0,
    # bench/sequences.hpp: the char-LM step (3× the forward's products) and
    # the transformer block.
    lm_step=3.0 * 2.0 * (4 * 256 * (32 + 256) + 256 * 98) * 32 * 64,
    block=2.0 * (32 * 64 * 3 * 64 + 32 * 32 * 2 * 64 + 32 * 64 * 64 + 2 * 32 * 64 * 256),
)
FLOPS["step"] = 64 * (3.0 * FLOPS["mlp"] - 2.0 * 784 * 256)
FLOPS["lenet_step"] = 64 * (3.0 * FLOPS["lenet"] - 576_000.0)


def peaks(counters):
    """The measured FMA peak on 1 and 2 threads, FLOP/s (best repetition)."""
    def peak(threads):
        key = f"fma_peak/float/threads:{threads}/real_time"
        return counters.get(key + "@max", counters.get(key, {})).get("FLOP/s")
    return peak(1), peak(2)


def core_round_trip(counters):
    """The cross-core round trip of a cache line in ns: (median, fastest, slowest repetition), or None.
    The fastest and the slowest are None when the run did not record them."""
    for name, c in counters.items():
        if name.startswith("core_to_core") and "@" not in name and "round_trip_ns" in c:
            low = counters.get(name + "@min", {}).get("round_trip_ns")
            high = counters.get(name + "@max", {}).get("round_trip_ns")
            return c["round_trip_ns"], low, high
    return None


def network_rows(times, peak1, peak2):
    """(task, threads, static, runtime, eigen, eigen_variant, torch, torch_variant, floor) of each network
    row, and the sequence rows among them."""
    tiny_flops, mlp_flops, step_flops = FLOPS["tiny"], FLOPS["mlp"], FLOPS["step"]
    lenet_flops, lenet_step_flops = FLOPS["lenet"], FLOPS["lenet_step"]
    lm_step_flops, block_flops = FLOPS["lm_step"], FLOPS["block"]
    rows = []  # (task, threads, static, runtime, eigen, eigen_variant, torch, torch_variant, floor)
    for task, prefix, flops in (("tiny MLP 16-64-64-1 tanh, batch 1", "tiny_mlp_infer1/", tiny_flops),
                                ("MLP 784-256-128-10, batch 1", "mlp_infer1/", mlp_flops)):
        e, ev = best(times, prefix, ["eigen", "eigen_lazy"])
        t, tv = best(times, prefix, ["libtorch", "libtorch_functional"])
        rows.append((task, 1, times.get(prefix + "static"), times.get(prefix + "runtime"), e, ev, t, tv,
                     flops / peak1 * 1e9 if peak1 else None))
    for threads, peak in ((1, peak1), (2, peak2)):
        suffix = f"/threads:{threads}/real_time"
        get = lambda impl: times.get(f"mlp_step_b64/{impl}{suffix}")
        rows.append((f"MLP training step, batch 64", threads, get("static"), get("runtime"), get("eigen"), "eigen",
                     get("libtorch"), "libtorch", step_flops / peak * 1e9 if peak else None))
    # LeNet (issue-level peers: the twin and LibTorch; no hand-written Eigen).
    lenet_rows = [("LeNet, batch 1", 1, times.get("lenet_infer1/static"), times.get("lenet_infer1/runtime"), None,
                   None, times.get("lenet_infer1/libtorch"), "libtorch", lenet_flops / peak1 * 1e9 if peak1 else None)]
    for threads, peak in ((1, peak1), (2, peak2)):
        get = lambda impl: times.get(f"lenet_step_b64/{impl}/threads:{threads}/real_time")
        lenet_rows.append(("LeNet training step, batch 64", threads, get("static"), get("runtime"), None, None,
                           get("libtorch"), "libtorch", lenet_step_flops / peak * 1e9 if peak else None))
    rows += [r for r in lenet_rows if r[2] is not None]
    # Sequence models: no Eigen; the twin's trainer has SGD only (no Adam) and
    # the twin has no attention ops.
    seq_rows = []
    for threads, peak in ((1, peak1), (2, peak2)):
        get = lambda impl: times.get(f"char_lm_step_b32/{impl}/threads:{threads}/real_time")
        seq_rows.append(("char-LM training step (Adam), batch 32 × 64 steps", threads, get("static"), None, None, None,
                         get("libtorch"), "libtorch", lm_step_flops / peak * 1e9 if peak else None))
        sgd = lambda impl: times.get(f"char_lm_sgd_step_b32/{impl}/threads:{threads}/real_time")
        seq_rows.append(("char-LM training step (SGD, momentum), batch 32 × 64 steps", threads, sgd("static"),
                         sgd("runtime"), None, None, None, None, lm_step_flops / peak * 1e9 if peak else None))
    t, tv = best(times, "transformer_block_t32_d64/", ["libtorch", "libtorch_functional"])
    seq_rows.append(("transformer block T 32, D 64, 4 heads, batch 1", 1, times.get("transformer_block_t32_d64/static"),
                     None, None, None, t, tv, block_flops / peak1 * 1e9 if peak1 else None))
    rows += [r for r in seq_rows if r[2] is not None]

    return rows, seq_rows


def targets(rows, times, counters, peak1, peak2, busy):
    """[(target, shown value, met or None)] for one instruction set's rows."""
    out = []
    def target(text, value, ok, shown):
        out.append((text, shown if value is not None else "—", None if value is None else ok(value)))
    tiny, mlp1 = rows[0], rows[1]
    target("tiny MLP batch 1: static ≥ 1.3× faster than Eigen", ratio(tiny[2], tiny[4]), lambda r: r >= 1.3,
           fmt_ratio(ratio(tiny[2], tiny[4])))
    target("tiny MLP batch 1: static ≥ 3× faster than the runtime twin", ratio(tiny[2], tiny[3]),
           lambda r: r >= 3, fmt_ratio(ratio(tiny[2], tiny[3])))
    target("tiny MLP batch 1: static ≥ 50× faster than LibTorch", ratio(tiny[2], tiny[6]), lambda r: r >= 50,
           fmt_ratio(ratio(tiny[2], tiny[6])))
    tf = None if tiny[2] is None or tiny[8] is None else tiny[2] / tiny[8]
    target("tiny MLP batch 1: static within 1.3× of the FMA floor", tf, lambda r: r <= 1.3, fmt_ratio(tf))
    target("MLP batch 1: static ≥ 1.3× faster than Eigen", ratio(mlp1[2], mlp1[4]), lambda r: r >= 1.3,
           fmt_ratio(ratio(mlp1[2], mlp1[4])))
    for r in [r for r in rows if r[0].startswith("MLP training")]:
        target(f"training step, {r[1]} thread{'s' if r[1] > 1 else ''}: static ≥ 1.3× faster than the twin",
               ratio(r[2], r[3]), lambda v: v >= 1.3, fmt_ratio(ratio(r[2], r[3])))
        target(f"training step, {r[1]} thread{'s' if r[1] > 1 else ''}: static ≥ 2.5× faster than LibTorch",
               ratio(r[2], r[6]), lambda v: v >= 2.5, fmt_ratio(ratio(r[2], r[6])))
    mlp1_step = times.get("mlp_step_b64/static/threads:1/real_time")
    mlp2 = times.get("mlp_step_b64/static/threads:2/real_time")
    target("MLP training step: 2 threads ≥ 1.6× faster than 1 thread", ratio(mlp2, mlp1_step), lambda v: v >= 1.6,
           fmt_ratio(ratio(mlp2, mlp1_step)))
    if mlp2 and peak2:
        e = mlp2 / (FLOPS["step"] / peak2 * 1e9)
        target("MLP training epoch on 2 threads within 1.3× of the FMA floor", e, lambda v: v <= 1.3, fmt_ratio(e))
    if busy is not None:
        one = run_time(times, "mlp_train_run/static/one_thread")
        held = run_time(busy, "mlp_train_run/static/adaptive")
        r = None if one is None or held is None else held / one
        target("MLP training run with one core held by another process: within 1.3× of one thread's time on the "
               "idle machine", r, lambda v: v <= 1.3, fmt_ratio(r))
    for r in [r for r in rows if r[0].startswith("LeNet training")]:
        target(f"LeNet training step, {r[1]} thread{'s' if r[1] > 1 else ''}: static ≥ 3× faster than LibTorch",
               ratio(r[2], r[6]), lambda v: v >= 3, fmt_ratio(ratio(r[2], r[6])))
    lenet2 = times.get("lenet_step_b64/static/threads:2/real_time")
    if lenet2 and peak2:
        e = lenet2 / (FLOPS["lenet_step"] / peak2 * 1e9)
        target("LeNet training epoch on 2 threads within 2× of the FMA floor", e, lambda v: v <= 2, fmt_ratio(e))
    gemm_rows = gemm_shapes(times)
    for g in ("nn/64x256x784", "tn/784x256x64", "nt/64x256x128"):
        c = counters.get(f"gemm/{g}/static")
        pct = None if not c or not peak1 else c["FLOP/s"] / peak1
        target(f"GEMM {g}: ≥ 85% of the FMA peak", pct, lambda v: v >= 0.85,
               "—" if pct is None else f"{100 * pct:.0f}%")
    slower = []
    for form, shape in gemm_rows:
        m, n, k = shape.split("x")
        cs = counters.get(f"gemm/{form}/{shape}/static")
        co = counters.get(f"gemm/{form}/{shape}/openblas/{m}/{n}/{k}")
        if cs and co and cs["FLOP/s"] < co["FLOP/s"]:
            slower.append(f"{form} {shape} ({cs['FLOP/s'] / co['FLOP/s']:.2f}×)")
    target("GEMM: not slower than OpenBLAS at any model shape", len(slower), lambda v: v == 0,
           "all faster" if not slower else "slower at " + ", ".join(slower))
    return out


def gemm_shapes(times):
    """(form, shape) of each GEMM benchmark present, in run order."""
    shapes = []
    for name in times:
        parts = name.split("/")
        if parts[0] == "gemm" and parts[3] == "static":
            shapes.append((parts[1], parts[2]))
    return shapes


def run_time(times, prefix):
    """The median time of the one run whose name starts with prefix (Google Benchmark appends
    /iterations:1/real_time), or None."""
    found = [t for name, t in times.items() if name.startswith(prefix + "/") or name == prefix]
    return found[0] if found else None


def write_networks(w, rows):
    w("| task | threads | ctnn static | runtime twin | Eigen | LibTorch | vs twin | vs Eigen | vs LibTorch "
      "| FMA floor | static ÷ floor |")
    w("|---|---|---|---|---|---|---|---|---|---|---|")
    for task, thr, st, rt, e, ev, t, tv, floor in rows:
        e_cell = fmt_time(e) + (f" ({ev})" if ev and ev != "eigen" else "")
        t_cell = fmt_time(t) + (f" ({tv.replace('libtorch_', '')})" if tv and tv != "libtorch" else "")
        w(f"| {task} | {thr} | {fmt_time(st)} | {fmt_time(rt)} | {e_cell} | {t_cell} | {fmt_ratio(ratio(st, rt))} "
          f"| {fmt_ratio(ratio(st, e))} | {fmt_ratio(ratio(st, t))} | {fmt_time(floor)} "
          f"| {fmt_ratio(None if st is None or floor is None else st / floor)} |")


def main(bench_json, cost_csv, out_md, out_png, busy_json=None, avx2_json=None):
    times, counters, ctx = load_times(bench_json)
    peak1, peak2 = peaks(counters)
    step_flops, lenet_step_flops = FLOPS["step"], FLOPS["lenet_step"]
    busy = load_times(busy_json)[0] if busy_json else None
    # The AVX2 run: every row again, the peers held to AVX2 too, with its own FMA peak.
    avx2 = None
    if avx2_json:
        times2, counters2, ctx2 = load_times(avx2_json)
        p2 = peaks(counters2)
        rows2, _ = network_rows(times2, *p2)
        avx2 = dict(times=times2, counters=counters2, ctx=ctx2, peak1=p2[0], peak2=p2[1], rows=rows2)

    bw = None
    for name, c in counters.items():
        if name.startswith("read_bandwidth/") and "bytes_per_second" in c:
            bw = c["bytes_per_second"]
    mlp_bytes = 4.0 * (784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10)

    rows, seq_rows = network_rows(times, peak1, peak2)

    lines = []
    w = lines.append
    w("# Benchmarks")
    w("")
    w("Generated by `" + ctx.get("command", "bash scripts/bench.sh").strip() + "` on "
      + datetime.date.today().isoformat() + " (scripts/bench_report.py); do not edit by hand.")
    w("Times are medians of the repetitions (wall clock), which ran in a random interleaved order. A ratio")
    w("is how many times faster the static ctnn network is than the peer, in the same run.")
    w("")
    w("## Machine")
    w("")
    w(f"- CPU: {cpu_model()}, {ctx.get('num_cpus', '?')} cores seen, "
      f"{ctx.get('mhz_per_cpu', '?')} MHz reported; load average before the run: {ctx.get('load_average', '?')}")
    w(f"- ctnn kernels: {ctx.get('ctnn_simd', '?')}; compiler: {ctx.get('ctnn_compiler', '?')}")
    w(f"- Peers: Eigen {ctx.get('eigen_version', 'absent')}, LibTorch {ctx.get('libtorch_version', 'absent')}, "
      f"{ctx.get('openblas_config', 'OpenBLAS absent')}")
    if peak1:
        w(f"- Measured FMA peak (float, best repetition): {peak1 / 1e9:.1f} GFLOP/s on 1 thread, "
          f"{(peak2 or 0) / 1e9:.1f} GFLOP/s on 2 threads. On a virtual machine the second core is not "
          "always a whole one (its neighbours on the host vary): the 2-thread peak of the same run says what "
          "it was, and the 2-thread rows are only as steady as it.")
    trip = core_round_trip(counters)
    if trip:
        median, low, high = trip
        spread = ""
        if low is not None and high is not None:
            spread = f" (its repetitions, spread over the run: {low:.0f} to {high:.0f} ns)"
            if high > 2 * low:
                spread += (": the host moved the two cores apart or together during the run, and the 2-thread "
                           "rows mix both placements")
        w(f"- Cross-core round trip of a cache line (core_to_core, median): {median:.0f} ns{spread}. About 100 ns "
          "is two cores of one core complex sharing an L3; 400 ns and more is two dies, where every value one "
          "thread writes and the other reads (a step's updated weights, its gradients) crosses between them: "
          "the 2-thread rows then gain less.")
    w("- LibTorch runs in its best configuration: intra-op threads = the row's thread count, OpenBLAS "
      "single-threaded (OPENBLAS_NUM_THREADS=1), inference under c10::InferenceMode; for batch-1 inference the "
      "faster of nn::Sequential and functional calls into preallocated outputs (addmm_out) is shown.")
    w("- Eigen: hand-written with fixed-size matrices (batch 1: matrix-vector products on column-major "
      "weights; the faster of Eigen's GEMV and its unrolled lazy product is shown).")
    w("")
    w("## Networks")
    w("")
    if avx2:
        w(f"With ctnn's {ctx.get('ctnn_simd', '?')} kernels (the build's default on this machine); the same rows "
          "with the AVX2 kernels follow the notes below.")
        w("")
    write_networks(w, rows)
    if seq_rows and any(r[2] is not None for r in seq_rows):
        w("")
        w("The char-LM step is dsl/models/char_lm.hpp (embedding 32 → LSTM 256 from a given state → dense 98, "
          "softmax cross-entropy averaged over the steps) with Adam, against the same net in LibTorch "
          "(nn::Embedding, nn::LSTM batch_first, nn::Linear, cross_entropy, Adam); its FLOPs are 3× the forward's "
          "matrix products. The twin's trainer has SGD only, so the static-vs-twin ratio is the same step with SGD and momentum 0.9 in both. The transformer block is pre-norm, not "
          "causal: x1 = x + mha(ln1(x)), y = x1 + ff2(gelu(ff1(ln2(x1)))), feed-forward width 256; LibTorch "
          "1.13's C++ nn::TransformerEncoderLayer has no norm_first, so its block is nn::LayerNorm, "
          "nn::MultiheadAttention and nn::Linear (or the same as functional calls into preallocated outputs, "
          "the faster shown). No twin row: the twin has no attention ops.")
    w("")
    # A Fashion-MNIST epoch (60,000 images, 937.5 steps of 64) at the 2-thread step time.
    for label, key, flops, digits in [("the MLP", "mlp_step_b64", step_flops, 3),
                                      ("LeNet", "lenet_step_b64", lenet_step_flops, 2)]:
        step2 = times.get(f"{key}/static/threads:2/real_time")
        if step2 and peak2:
            epoch = 60000 / 64 * step2 / 1e9
            floor = 60000 * flops / 64 / peak2
            w(f"A Fashion-MNIST epoch of {label} (60,000 images, 937.5 steps of 64) at this step time on 2 threads: "
              f"{epoch:.{digits}f} s; FMA-bound floor {floor:.{digits}f} s; ratio {epoch / floor:.2f}×.")
    w("The LeNet floors count the direct convolution's multiply-adds (the FLOPs every implementation is "
      "credited with). The training step computes conv2 by Winograd F(2×2, 5×5), 2.78× fewer multiply-adds "
      "in its products (plus the transforms), so a step can come in under that floor; batch-1 inference takes "
      "im2col and GEMM and is bound by it. The runtime twin runs the same convolution code "
      "(kernels/convolution.hpp) with run-time sizes and makes the same choice when the step runs, so the "
      "static-vs-twin ratio measures what static compilation removes (dispatch, run-time sizes, fusion).")
    w("")
    step_gemms = ["nn/64x256x784", "nn/64x128x256", "nn/64x10x128", "tn/784x256x64", "tn/256x128x64",
                  "tn/128x10x64", "nt/64x256x128", "nt/64x128x10"]
    gemm_sum = sum(times.get(f"gemm/{g}/static", 0.0) for g in step_gemms)
    step1 = times.get("mlp_step_b64/static/threads:1/real_time")
    twin1 = times.get("mlp_step_b64/runtime/threads:1/real_time")
    if gemm_sum and step1:
        w(f"Where a training step's time goes (1 thread): its eight matrix products, timed alone at the same "
          f"shapes, take {fmt_time(gemm_sum)} of the static step's {fmt_time(step1)} "
          f"({100 * gemm_sum / step1:.0f}%). The runtime twin runs the same products through the same kernels; "
          f"what static compilation removes is the rest: {fmt_time(step1 - gemm_sum)} in the static step"
          + (f", {fmt_time(twin1 - gemm_sum)} in the twin's" if twin1 else "") + ".")
        w("")
    if bw:
        t = times.get("mlp_infer1/static")
        floor = mlp_bytes / bw * 1e9
        w(f"Batch-1 inference of the MLP reads its {mlp_bytes / 1e3:.0f} KB of parameters once per image; "
          f"streaming a buffer of that size runs at {bw / 1e9:.1f} GB/s here, a floor of {fmt_time(floor)} "
          f"(ctnn static: {fmt_time(t)}, {t / floor:.2f}× that floor). Any implementation that reads float "
          "weights is bound by it, Eigen's included.")
        w("")
    stream_rows = streaming_rows(times, peak1)
    if stream_rows:
        write_streaming(w, stream_rows)
    if avx2:
        w("## Networks with the AVX2 kernels")
        w("")
        w(f"The same benchmarks built once more with CTNN_SIMD=avx2 ({avx2['ctx'].get('ctnn_simd', '?')} kernels) "
          f"and run right after the main run (load average before it: {avx2['ctx'].get('load_average', '?')}), "
          "the peers held to AVX2 as well: Eigen compiled with the same flags, LibTorch with "
          "ATEN_CPU_CAPABILITY=avx2, OpenBLAS with OPENBLAS_CORETYPE=Haswell. The floors are from the FMA peak of "
          f"that run: {(avx2['peak1'] or 0) / 1e9:.1f} GFLOP/s on 1 thread, {(avx2['peak2'] or 0) / 1e9:.1f} "
          "GFLOP/s on 2.")
        w("")
        write_networks(w, avx2["rows"])
        w("")
    if busy is not None:
        w("## With another process holding a core")
        w("")
        w("A training run of 937 MLP steps of 64 (a Fashion-MNIST epoch) from a fresh thread policy: adaptive "
          "(ctnn::adaptive_threads over 1 and 2 threads, its measuring steps included, as ctnn_train runs) and "
          "fixed at one thread; on the idle machine, and again while a busy loop (`sh -c 'while :; do :; done'`) "
          "holds one core.")
        w("")
        w("| run | idle machine | one core held | held ÷ one thread idle |")
        w("|---|---|---|---|")
        one = run_time(times, "mlp_train_run/static/one_thread")
        for label, key in (("adaptive threads", "adaptive"), ("one thread", "one_thread")):
            idle, held = run_time(times, f"mlp_train_run/static/{key}"), run_time(busy, f"mlp_train_run/static/{key}")
            w(f"| {label} | {fmt_time(idle)} | {fmt_time(held)} "
              f"| {fmt_ratio(None if held is None or one is None else held / one)} |")
        w("")
    w("## GEMM at the networks' shapes (1 thread)")
    w("")
    w("m×n×k; nn: A·B, nt: A·Bᵀ, tn: Aᵀ·B. GFLOP/s and the share of the measured 1-thread FMA peak.")
    w("")
    w("| form | shape | static | % peak | dynamic | % peak | OpenBLAS | % peak | static vs OpenBLAS |")
    w("|---|---|---|---|---|---|---|---|---|")
    for form, shape in gemm_shapes(times):
        m, n, k = shape.split("x")
        def rate(kind):
            key = f"gemm/{form}/{shape}/{kind}" + ("" if kind == "static" else f"/{m}/{n}/{k}")
            c = counters.get(key)
            return c.get("FLOP/s") if c else None
        s, d, o = rate("static"), rate("dynamic"), rate("openblas")
        pct = lambda r: "—" if r is None or not peak1 else f"{100 * r / peak1:.0f}%"
        g = lambda r: "—" if r is None else f"{r / 1e9:.1f}"
        w(f"| {form} | {shape} | {g(s)} | {pct(s)} | {g(d)} | {pct(d)} | {g(o)} | {pct(o)} "
          f"| {fmt_ratio(None if s is None or o is None else s / o)} |")
    w("")
    w("## Targets")
    w("")
    main_targets = targets(rows, times, counters, peak1, peak2, busy)
    met = lambda ok: "—" if ok is None else ("yes" if ok else "no")
    if avx2:
        avx2_targets = targets(avx2["rows"], avx2["times"], avx2["counters"], avx2["peak1"], avx2["peak2"], None)
        w(f"| target | {ctx.get('ctnn_simd', '?')} kernels | met | AVX2 kernels | met |")
        w("|---|---|---|---|---|")
        by_text = {text: (shown, ok) for text, shown, ok in avx2_targets}
        for text, shown, ok in main_targets:
            shown2, ok2 = by_text.get(text, ("—", None))
            w(f"| {text} | {shown} | {met(ok)} | {shown2} | {met(ok2)} |")
    else:
        w("| target | measured | met |")
        w("|---|---|---|")
        for text, shown, ok in main_targets:
            w(f"| {text} | {shown} | {met(ok)} |")
    w("")
    w("## Compile cost")
    w("")
    w("Each model of dsl/models in a translation unit of its own that trains and runs it "
      "(trainer step and predict_one), with the benchmark build's flags, without ccache "
      "(scripts/compile_cost.sh).")
    w("")
    w("| model | compile time | peak compiler memory |")
    w("|---|---|---|")
    try:
        for r in csv.DictReader(open(cost_csv)):
            w(f"| {r['model']} | {float(r['seconds']):.1f} s | {r['peak_mb']} MB |")
    except OSError:
        w("| (not measured) | | |")
    w("")
    w("![speed-ups of the static network](benchmarks.png)")
    w("")
    open(out_md, "w").write("\n".join(lines))

    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("bench_report: python3-matplotlib is not installed; no plot written", file=sys.stderr)
        return
    labels, series = [], {"runtime twin": [], "Eigen": [], "LibTorch": []}
    for task, thr, st, rt, e, ev, t, tv, floor in rows:
        labels.append(task.replace(", ", "\n") + (f"\n{thr} thread" + ("s" if thr > 1 else "")))
        for key, peer in (("runtime twin", rt), ("Eigen", e), ("LibTorch", t)):
            series[key].append(ratio(st, peer) or 0.0)
    fig, ax = plt.subplots(figsize=(max(10.0, 1.8 * len(labels)), 5))
    width = 0.25
    for i, (key, vals) in enumerate(series.items()):
        xs = [j + (i - 1) * width for j in range(len(labels))]
        bars = ax.bar(xs, vals, width, label=key)
        for x, v in zip(xs, vals):
            if v > 0:
                ax.text(x, v, f"{v:.1f}×", ha="center", va="bottom", fontsize=7)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_yscale("log")
    ax.set_ylabel("time of peer ÷ time of ctnn static (log)")
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, fontsize=8)
    ax.set_title(f"ctnn static network vs peers ({ctx.get('ctnn_simd', '?')}, {cpu_model()})", fontsize=10)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out_png, dpi=110)


if __name__ == "__main__":
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("bench_json")
    parser.add_argument("compile_cost_csv")
    parser.add_argument("out_md")
    parser.add_argument("out_png")
    parser.add_argument("--busy", help="the training runs with one core held (Google Benchmark JSON)")
    parser.add_argument("--avx2", help="ctnn's rows with the AVX2 kernels (Google Benchmark JSON)")
    a = parser.parse_args()
    main(a.bench_json, a.compile_cost_csv, a.out_md, a.out_png, a.busy, a.avx2)
