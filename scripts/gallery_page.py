#!/usr/bin/env python3
"""Writes docs/gallery.md from ctnn_explain's report.json (scripts/gallery.sh)."""
import json
import sys

report_path, page_path = sys.argv[1], sys.argv[2]
r = json.load(open(report_path))

sal, occ, cm, dream, fil, fgsm = (r[k] for k in ("saliency", "occlusion", "class_model", "dream", "filters", "fgsm"))
rates = {f'{x["epsilon"]:g}': x["success_rate"] for x in fgsm["rates"]}
lines = [
    "# Gallery: what the trained LeNet looks at",
    "",
    "Written by `bash scripts/gallery.sh`: LeNet trained by the main job's defaults",
    "(`ctnn_train --model lenet`), then `ctnn_explain` on the "
    f'{r["test_images"]:,} Fashion-MNIST test images (dsl/apps/explain.cpp, whose methods are in',
    "dsl/apps/explain_methods.hpp). Each picture is followed by a one-line reading.",
    "",
    "## Saliency maps",
    "",
    "![saliency](gallery/saliency.png)",
    "",
    "|∂ class score / ∂ image| (top: the test images; bottom: the map in black → red → yellow over them). "
    f'The map puts {sal["object_ratio"]:.2f}× as much of its mass on the garment\'s pixels as their share of the '
    f'image (mean over {sal["images"]:,} images): the network looks at the garment, though raw gradients are '
    "noisy: the map is speckled over the whole garment rather than outlining it.",
    "",
    "## Occlusion sensitivity",
    "",
    "![occlusion](gallery/occlusion.png)",
    "",
    f'A black {occ["patch"]}×{occ["patch"]} patch slid with stride {occ["stride"]}; red: the true class\'s '
    "probability drops where the patch covers (blue: it rises). Trousers hinge on the gap between the legs, "
    "the pullover on a shoulder, the ankle boot on its upper: covering those costs the class, covering the "
    "background costs nothing.",
    "",
    "## Class model visualization",
    "",
    "![class models](gallery/class_model.png)",
    "",
    "Gradient ascent on each class score (before the softmax) from the mean test image, with L2 decay, jitter and "
    "a blur every few steps; in class order: "
    + ", ".join(f'{c["class"]} ({c["probability"]:.3f})' for c in cm["classes"])
    + ". The shapes are faint but there (two legs and a dark gap for trousers, a wide body with "
    "sleeves for the pullover, a low wide shape for the sneaker), and the network is near certain of each.",
    "",
    f'## DeepDream on {dream["layer"]}',
    "",
    "![dream](gallery/dream.png)",
    "",
    f'{dream["steps"]} steps of gradient ascent on ½‖{dream["layer"]}‖² (backward_from that output) starting from '
    "the test images (top): the layer's features, edges and stripes at the garments' outlines and prints, are "
    "amplified into high-contrast textures while the garment stays recognizable.",
    "",
    "## First-layer filters and activations",
    "",
    "![conv1 filters](gallery/conv1_filters.png)",
    "",
    "The 20 conv1 filters (5×5, each scaled on its own): small oriented edge and blob detectors, noisy after "
    "only 5 epochs on 28×28 images.",
    "",
    "![conv1 maps](gallery/conv1_maps.png)",
    "",
    f'conv1\'s 20 activation maps (24×24) for the first test image ({fil["image_class"]}): each is the image '
    "filtered, bright where its edge orientation matches (the sole, the top line of the shoe).",
    "",
    "![conv2 maps](gallery/conv2_maps.png)",
    "",
    "conv2's 50 maps (8×8) for the same image: coarser, each lighting a few regions of the shoe.",
    "",
    "## FGSM adversarial examples",
    "",
    "![fgsm](gallery/fgsm.png)",
    "",
    f'Top: test images and the class the network gives them; bottom: x + {fgsm["picture_epsilon"]:g}·sign(∇x loss), '
    "clipped to [0, 1], and its class. "
    "Predictions (true → before → after): "
    + "; ".join(f'{e["true"]} → {e["original"]} → {e["adversarial"]}' for e in fgsm["examples"])
    + ".",
    "",
    f'Share of the {fgsm["correct"]:,} correctly classified test images whose prediction the attack changes:',
    "",
    "| ε | " + " | ".join(rates) + " |",
    "|---|" + "---|" * len(rates),
    "| success rate | " + " | ".join(f"{v:.3f}" for v in rates.values()) + " |",
    "",
    "A change of 0.1 per pixel, a faint speckle that leaves every garment plain to a person, fools the "
    "network on most images: one signed step moves all of the many small pixel-level cues it adds up together.",
    "",
]
open(page_path, "w").write("\n".join(lines))
