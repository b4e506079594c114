"""Memory and speed of QLoRA against LoRA and full fine-tuning, in one run, on the same batches.

    python -m bench.finetune --dataset DIR [--steps 20] [--methods qlora,lora,full]
                             [--device cpu|cuda] [--base-model DIR] [--json OUT]

Each method trains in a process of its own (peak memory is a process's high-water mark) with
the same dataset, seed and steps, so the batches are the same; the table gives each method's
peak memory, what training added to it, seconds per step, tokens per second and trainable
parameters, with the ratios to QLoRA beside the torchtune anchor (Llama-3.1-8B on one GPU:
QLoRA 7.4 GiB, LoRA 16.2 GiB, full 18.9 GiB). The quality half of the benchmark, base against
tuned on the held-out questions, is the evaluation gate: manage.py evaluate_adapter.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from apps.adapters.files import TRAINING_MANIFEST

ROOT = Path(__file__).resolve().parents[1]
ANCHOR_GIB = {"qlora": 7.4, "lora": 16.2, "full": 18.9}  # torchtune, Llama-3.1-8B, one GPU


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, required=True, help="from build_sft_dataset")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--methods", default="qlora,lora,full")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--base-model", default="", help="default: the packaged Gemma-3-270M")
    parser.add_argument("--max-seq-len", type=int, default=768)
    parser.add_argument("--cpu-threads", type=int, default=0)
    parser.add_argument("--json", type=Path, dest="json_out")
    return parser.parse_args(argv)


def run_method(method: str, args: argparse.Namespace, out: Path) -> dict:
    command = [
        sys.executable, str(ROOT / "manage.py"), "train_adapter",
        "--dataset", str(args.dataset), "--out", str(out), "--method", method,
        "--max-steps", str(args.steps), "--device", args.device,
        "--max-seq-len", str(args.max_seq_len), "--cpu-threads", str(args.cpu_threads),
        "--logging-steps", "1", "--save-steps", str(args.steps + 1),
    ]  # fmt: skip
    if args.base_model:
        command += ["--base-model", args.base_model]
    done = subprocess.run(command, cwd=ROOT, env=os.environ.copy(), capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{method} failed:\n{done.stderr[-3000:]}")
    return json.loads((out / TRAINING_MANIFEST).read_text())


def measure(args: argparse.Namespace) -> dict[str, dict]:
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-finetune-") as work:
        for method in args.methods.split(","):
            manifest = run_method(method, args, Path(work) / method)
            memory = manifest["peak_memory"]
            results[method] = {
                "peak_rss_mib": memory["peak_rss"] / 2**20,
                "training_rss_mib": memory["peak_rss_training"] / 2**20,
                "cuda_max_allocated_mib": memory.get("cuda_max_allocated", 0) / 2**20 or None,
                "seconds_per_step": manifest["seconds_per_step"],
                "tokens_per_second": manifest["tokens_per_second"],
                "trainable_parameters": manifest["trainable_parameters"],
                "final_loss": manifest["final_loss"],
                "device": manifest["device"],
            }
    return results


def table(results: dict[str, dict], steps: int) -> str:
    first = next(iter(results.values()))
    lines = [
        f"Fine-tuning benchmark: {steps} steps per method, same batches, on {first['device']}",
        f"{'method':8}{'peak RSS MiB':>14}{'training MiB':>14}{'CUDA MiB':>10}{'s/step':>9}"
        f"{'tokens/s':>10}{'trainable':>13}{'vs QLoRA':>10}{'anchor':>8}",
    ]
    base = results.get("qlora") or first
    for method, row in results.items():
        memory = row["cuda_max_allocated_mib"] or row["peak_rss_mib"]
        reference = base["cuda_max_allocated_mib"] or base["peak_rss_mib"]
        anchor = ANCHOR_GIB.get(method, 0) / ANCHOR_GIB["qlora"]
        cuda = f"{row['cuda_max_allocated_mib']:.0f}" if row["cuda_max_allocated_mib"] else "–"
        lines.append(
            f"{method:8}{row['peak_rss_mib']:14.0f}{row['training_rss_mib']:14.0f}{cuda:>10}"
            f"{row['seconds_per_step']:9.2f}{row['tokens_per_second']:10.1f}"
            f"{row['trainable_parameters']:13,d}{memory / reference:10.2f}{anchor:8.2f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> str:
    args = parse_args(argv)
    results = measure(args)
    text = table(results, args.steps)
    print(text)
    if args.json_out:
        args.json_out.write_text(json.dumps(results, indent=2) + "\n")
    return text


if __name__ == "__main__":
    main()
