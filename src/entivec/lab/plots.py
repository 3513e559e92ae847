"""Figures the lab writes beside its tables (``entivec eval ... --plot FILE``), for the
results a reader would rather look at than read: the layer sweep by block, routing
accuracy by input length, and a benchmark's speeds as ratios to the peer measured in the
same run. matplotlib comes with the ``eval`` extra.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from entivec.extras import require_extra


def _pyplot() -> Any:
    require_extra("eval", ("matplotlib",), "--plot")
    import matplotlib

    matplotlib.use("Agg")  # files only, never a window
    import matplotlib.pyplot as plt

    return plt


def plot_layer_sweep(result: dict[str, Any], out: Path) -> Path:
    """AUC and R-Precision of each block's raw value vectors (``entivec eval layers``)."""
    plt = _pyplot()
    blocks = [row["block"] for row in result["blocks"]]
    figure, axis = plt.subplots(figsize=(7, 3.5))
    axis.plot(blocks, [row["auc"] for row in result["blocks"]], marker="o", label="AUC")
    axis.plot(
        blocks, [row["r_precision"] for row in result["blocks"]], marker="s", label="R-Precision"
    )
    axis.axvline(result["best_block"], color="grey", linestyle=":", label="best block")
    axis.set_xlabel("decoder block")
    axis.set_ylabel("type separation")
    axis.set_title(
        f"Raw value vectors by block: {result['mentions']} mentions of {result['types']} types"
    )
    axis.legend()
    figure.tight_layout()
    figure.savefig(out, dpi=120)
    plt.close(figure)
    return out


def plot_routing_by_length(result: dict[str, Any], out: Path) -> Path:
    """Accuracy of each routing method per input-length bucket (``entivec eval routing``)."""
    plt = _pyplot()
    buckets = list(result["length_buckets"])
    figure, axis = plt.subplots(figsize=(7, 3.5))
    width = 0.8 / max(1, len(result["methods"]))
    for i, method in enumerate(result["methods"]):
        values = [method["by_length"].get(b, float("nan")) for b in buckets]
        positions = [
            j + (i - (len(result["methods"]) - 1) / 2) * width for j in range(len(buckets))
        ]
        axis.bar(positions, values, width, label=method["method"])
    axis.set_xticks(
        range(len(buckets)),
        [f"{b} tokens ({result['length_buckets'][b]})" for b in buckets],
    )
    axis.set_ylim(0, 1)
    axis.set_ylabel("accuracy (unrouted counts as wrong)")
    axis.set_title(f"Routing accuracy by input length, {result['sentences']} sentences")
    axis.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2)
    figure.tight_layout()
    figure.savefig(out, dpi=120)
    plt.close(figure)
    return out


def plot_ratios(rows: list[tuple[str, float]], title: str, out: Path) -> Path:
    """Horizontal bars of ``(name, ratio to the peer)``, the peer being the 1.0 line."""
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(7, 0.6 * len(rows) + 1.2))
    names = [name for name, _ in rows]
    values = [value for _, value in rows]
    axis.barh(names, values, color="tab:blue")
    axis.axvline(1.0, color="grey", linestyle=":")
    for y, value in enumerate(values):
        axis.text(value, y, f" {value:.2f}×", va="center")
    axis.invert_yaxis()
    axis.set_xlim(0, max(values) * 1.2)
    axis.set_xlabel("ratio to the peer (1.0 = the peer)")
    axis.set_title(title)
    figure.tight_layout()
    figure.savefig(out, dpi=120)
    plt.close(figure)
    return out
