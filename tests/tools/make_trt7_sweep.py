"""Writes two TensorRT 7.1 batch sweeps in TensorRT 7's shapes: no version in the banner, multi-line "Host Latency" /
"GPU Compute" blocks (NVIDIA/TensorRT#1221), the three-column --dumpProfile table, and TRT 7 --exportTimes fields
(inMs/outMs/endToEndMs). The numbers are made up but consistent: each run's profile and times belong to it.

* data/trt7/trt7_sweep.{log,times.json,profile.json}: seven runs (batch 1..128) appended to one log with `cat >>`,
  and their exports appended the same way.
* data/trt7_appended/: nine runs (batch 1..256), each logged to its own file (`| tee sweep_b<N>.log`, no
  --dumpProfile), all exporting to profile_all.json, which holds one {"count"} document per run, oldest first.
Run: python tests/tools/make_trt7_sweep.py
"""

import json
from pathlib import Path

HERE = Path(__file__).resolve().parents[1] / "data" / "trt7"
BATCHES = (1, 2, 4, 8, 16, 64, 128)
APPENDED_BATCHES = (1, 2, 4, 8, 16, 32, 64, 128, 256)
LAYERS = ("conv1 + conv1_relu", "pool1", "res2a_branch2a + res2a_branch2a_relu", "fc1000")
SHARE = (0.40, 0.05, 0.45, 0.10)


def stats(median):
    return {"min": median * 0.97, "max": median * 1.31, "mean": median * 1.004, "median": median, "p99": median * 1.08}


def run_text(batch, gpu_median, iterations, stamp, dump_profile=True, profile_file="profile.json"):
    cmd = (f"./trtexec --onnx=resnet50.onnx --batch={batch} --int8 --exportTimes=times.json "
           f"--exportProfile={profile_file}" + (" --dumpProfile" if dump_profile else ""))
    p = f"[09/14/2020-11:{stamp:02d}:11] [I] "
    host, gpu = stats(gpu_median + 0.13 * batch), stats(gpu_median)
    lines = [f"&&&& RUNNING TensorRT.trtexec # {cmd}",
             p + "=== Model Options ===", p + "Format: ONNX", p + "Model: resnet50.onnx", p + "Output:",
             p + "=== Build Options ===", p + f"Max batch: {batch}", p + "Workspace: 16 MB", p + "Precision: FP32+INT8",
             p + "Calibration: Dynamic", p + "Safe mode: Disabled", p + "Input build shapes: model",
             p + "=== System Options ===", p + "Device: 0", p + "DLACore: ",
             p + "=== Inference Options ===", p + f"Batch: {batch}", p + "Input inference shapes: model",
             p + "Iterations: 10", p + "Spin-wait: Disabled", p + "CUDA Graph: Disabled",
             p + "=== Reporting Options ===", p + "Percentile: 99", p + "Profile: Enabled",
             p + "Export timing to JSON file: times.json", p + "Export profile to JSON file: profile.json", p,
             p + "Starting inference threads",
             p + f"Timing trace has {iterations} queries over 3.00541 s",
             p + "Trace averages of 10 runs:",
             p + f"Average on 10 runs - GPU latency: {gpu_median:.5g} ms - Host latency: {host['median']:.5g} ms "
                 f"(end to end {2 * host['median']:.5g} ms, enqueue 0.41 ms)",
             p + "Host Latency"]
    for key in ("min", "max", "mean", "median"):
        lines.append(p + f"{key}: {host[key]:.6g} ms (end to end {2 * host[key]:.6g} ms)")
    lines += [p + f"percentile: {host['p99']:.6g} ms at 99% (end to end {2 * host['p99']:.6g} ms at 99%)",
              p + f"throughput: {batch * 1000 / host['mean']:.6g} qps", p + "walltime: 3.00541 s",
              p + "GPU Compute"]
    for key in ("min", "max", "mean", "median"):
        lines.append(p + f"{key}: {gpu[key]:.6g} ms")
    lines += [p + f"percentile: {gpu['p99']:.6g} ms at 99%", p + f"total compute time: {gpu['mean'] * iterations / 1000:.6g} s"]
    total = gpu_median * 1.05
    if dump_profile:
        lines += [p, p + f"=== Profile ({iterations} iterations ) ===",
                  p + "                                 Layer   Time (ms)   Avg. Time (ms)   Time %"]
        for name, share in zip(LAYERS, SHARE):
            lines.append(p + f"{name:>37} {share * total * iterations:11.2f} {share * total:16.4f} {share * 100:8.1f}")
        lines.append(p + f"{'Total':>37} {total * iterations:11.2f} {total:16.4f} {100.0:8.1f}")
    lines.append(f"&&&& PASSED TensorRT.trtexec # {cmd}")
    return "\n".join(lines)


def profile_document(gpu_median, iterations):
    total = gpu_median * 1.05
    return [{"count": iterations}] + [
        {"name": n, "timeMs": s * total * iterations, "averageMs": s * total, "percentage": s * 100}
        for n, s in zip(LAYERS, SHARE)]


def main():
    log, profiles, times = [], [], []
    for i, batch in enumerate(BATCHES):
        gpu_median = round(1.2 + 0.9 * batch, 4)
        iterations = 1400 // (1 + i)
        log.append(run_text(batch, gpu_median, iterations, 2 + i))
        profiles.append(profile_document(gpu_median, iterations))
        trace, t = [], 0.0
        for k in range(5):
            compute = gpu_median * (0.99 + 0.005 * k)
            trace.append({"startInMs": t, "endInMs": t + 0.06, "startComputeMs": t + 0.06, "endComputeMs": t + 0.06 + compute,
                          "startOutMs": t + 0.06 + compute, "endOutMs": t + 0.1 + compute, "inMs": 0.06,
                          "computeMs": compute, "outMs": 0.04, "latencyMs": compute + 0.1, "endToEndMs": 2 * (compute + 0.1)})
            t += compute + 0.2
        times.append(trace)
    (HERE / "trt7_sweep.log").write_text("\n".join(log) + "\n")
    # `cat profile.json >> trt7_sweep.profile.json` after every run: documents back to back.
    (HERE / "trt7_sweep.profile.json").write_text("".join(json.dumps(p, indent=1) + "\n" for p in profiles))
    (HERE / "trt7_sweep.times.json").write_text("".join(json.dumps(t, indent=1) + "\n" for t in times))
    appended = HERE.parent / "trt7_appended"
    appended.mkdir(exist_ok=True)
    documents = []
    for i, batch in enumerate(APPENDED_BATCHES):
        gpu_median = round(1.2 + 0.9 * batch, 4)
        iterations = 2000 // (1 + i)
        (appended / f"sweep_b{batch}.log").write_text(run_text(batch, gpu_median, iterations, 10 + i, dump_profile=False,
                                                               profile_file="profile_all.json") + "\n")
        documents.append(profile_document(gpu_median, iterations))
    (appended / "profile_all.json").write_text("".join(json.dumps(d, indent=1) + "\n" for d in documents))


if __name__ == "__main__":
    main()
