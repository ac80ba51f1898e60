#!/usr/bin/env python3
"""Writes docs/gallery.md from ctnn_explain's report.json, ctnn_generative's
four (autoencoder, denoising, vae, gan) and ctnn_spatial's, as
scripts/gallery.sh runs them."""
import json
import sys


def gan_section(gan):
    """The GAN's part of the page, from its report.json (run with --classifier)."""
    q = gan["quality"]
    first, last = gan["epochs"][0], gan["epochs"][-1]
    return [
        "## GAN",
        "",
        "Written by `ctnn_generative gan` (dsl/models/gan.hpp): a DCGAN, the generator a code of "
        f'{gan["model"]["code"]} → transposed convolutions to 7×7, 14×14 and 28×28 (batch norm and ReLU between, '
        "sigmoid pixels), the discriminator two stride-2 convolutions with leaky ReLU and one logit; "
        f'{len(gan["epochs"])} epochs of Adam (lr {gan["recipe"]["lr"]:g}, β1 {gan["recipe"]["beta1"]:g}).',
        "",
        "![gan samples](gallery/gan_samples.png)",
        "",
        "64 samples from fixed codes after the last epoch: shirts, pullovers, dresses, trousers, sneakers, ankle boots "
        "and bags, sharper-edged than the VAE's but with a mottled, grainy texture and some broken shapes. A LeNet "
        f'(`ctnn_train --model lenet`, {q["classifier"]}) classifies '
        
        f'{q["generated"]["images"]:,} samples with a mean largest probability of '
        f'{q["generated"]["mean_max_probability"]:.3f} ({q["real"]["mean_max_probability"]:.3f} on the test images) '
        f'and spreads them over the classes with an entropy of {q["generated"]["class_entropy"]:.3f} nats '
        f'({q["real"]["class_entropy"]:.3f} for the test images, ln 10 = 2.303 at most): every class is drawn, '
        "less clearly than the real thing.",
        "",
        "![gan samples after one epoch](gallery/gan_samples_epoch_1.png)",
        "",
        "The same codes after the first epoch: outlines of tops, shoes and bags in noise.",
        "",
        "![gan curves](gallery/gan_curves.png)",
        "",
        f'The two losses per step and per epoch, and the discriminator\'s mean probability of "real": from '
        f'{first["d_real"]:.2f} (real) and {first["d_fake"]:.2f} (generated) in the first epoch to '
        f'{last["d_real"]:.2f} and {last["d_fake"]:.2f} in the last, as the generator catches up; the samples\' '
        "class entropy (right axis) stays near its maximum from the first epoch on.",
        "",
    ]


report_path, page_path = sys.argv[1], sys.argv[2]
r = json.load(open(report_path))
ae, dae, vae = (json.load(open(p)) for p in sys.argv[3:6])
gan, stn = json.load(open(sys.argv[6])), json.load(open(sys.argv[7]))

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
first_vae, last_vae = vae["epochs"][0]["test_elbo"], vae["epochs"][-1]["test_elbo"]
lines += [
    "## Autoencoders",
    "",
    "Written by `ctnn_generative autoencoder` and `denoising` (dsl/apps/generative.cpp, dsl/models/autoencoder.hpp):",
    f'784 → {ae["model"]["code"]} sigmoid → 784, the decoder the encoder\'s weight transposed (by name), '
    f'{len(ae["epochs"])} epochs of Adam on the training set.',
    "",
    "![autoencoder reconstructions](gallery/autoencoder_reconstructions.png)",
    "",
    "Test images (top) and the tied autoencoder's reconstructions (bottom): every garment keeps its outline and "
    f'its light and dark areas; fine print and texture are blurred. Test error {ae["test_mse_per_pixel"]:.4f} per '
    f'pixel, against {ae["baseline_mean_image_mse_per_pixel"]:.4f} for the mean training image.',
    "",
    "![autoencoder filters](gallery/autoencoder_filters.png)",
    "",
    f'The {ae["model"]["code"]} encoder filters (each scaled on its own): whole-garment templates (tops, '
    "trousers, a shoe's sole) and plaid-like textures, not the local edges of a convolution's filters.",
    "",
    "![autoencoder curves](gallery/autoencoder_curves.png)",
    "",
    "The training loss per step and the test error per epoch: still falling at the last epoch.",
    "",
    "![denoising reconstructions](gallery/denoising_reconstructions.png)",
    "",
    f'The denoising autoencoder: test images, the same with {dae["model"]["masked_share"]:.0%} of their pixels '
    "zeroed, and its reconstructions from those: the missing pixels are filled in from the garment's shape. "
    f'Test error {dae["test_mse_per_pixel"]:.4f} per pixel from clean input.',
    "",
    "![denoising filters](gallery/denoising_filters.png)",
    "",
    "Its filters: the same kinds of garment templates and plaid-like textures; with this much training the "
    "masking changes them little, though it changes what the network does with a clean image (guide section 16).",
    "",
    "![denoising curves](gallery/denoising_curves.png)",
    "",
    "Its training loss and test error per epoch.",
    "",
    "## Variational autoencoder",
    "",
    "Written by `ctnn_generative vae` (dsl/models/vae.hpp): 784 → 256 → the mean and log-variance of a "
    f'{vae["model"]["latent"]}-dimensional code, z = μ + exp(½ log σ²)·ε, 256 → 784 logits.',
    "",
    "![vae samples](gallery/vae_samples.png)",
    "",
    "Decoded from z drawn from N(0, I): shirts, pullovers, trousers, sneakers, bags and boots, blurred as a VAE's "
    "samples are, but each a recognizable garment.",
    "",
    "![vae interpolation](gallery/vae_interpolation.png)",
    "",
    "From a test image (left) to one of another class (right): ten points on the straight line between the means "
    "of their codes, decoded; each step is itself a plausible garment.",
    "",
    "![vae curves](gallery/vae_curves.png)",
    "",
    f'The test ELBO rises from {first_vae:.1f} nats after the first epoch to {last_vae:.1f} after the '
    f'{len(vae["epochs"])}th.',
    "",
]
lines += gan_section(gan)
plain, transformed = stn["lenet"], stn["stn_lenet"]
lines += [
    "## Spatial transformer",
    "",
    "Written by `ctnn_spatial` (dsl/apps/spatial.cpp, dsl/models/stn_lenet.hpp): Fashion-MNIST with each image "
    f'rotated within ±{stn["distortion"]["max_degrees"]:g}° and shifted within '
    f'±{stn["distortion"]["max_shift_pixels"]:g} pixels; LeNet, and LeNet behind a localization network, '
    "affine_grid and bilinear_sampler, trained with the same recipe "
    f'({stn["recipe"]["epochs"]} epochs of Adam).',
    "",
    "![spatial transformer](gallery/spatial_transformer.png)",
    "",
    "Distorted test images (first and third rows) and what the learned transformer makes of each (the row below "
    "it): the garments are turned back towards upright, the trousers and tops most clearly, and shrunk a little, "
    "so that less of them falls outside LeNet's view; what the distortion cut off stays black.",
    "",
    "![spatial curves](gallery/spatial_curves.png)",
    "",
    f'Accuracy on the distorted test set: LeNet {plain["test_accuracy"]:.4f}, STN-LeNet '
    f'{transformed["test_accuracy"]:.4f} after the last epoch.',
    "",
]
open(page_path, "w").write("\n".join(lines))
