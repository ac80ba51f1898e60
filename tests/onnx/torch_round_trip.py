#!/usr/bin/python3
"""The models of dsl/models built in PyTorch, exported to ONNX for the
round trip through tools/onnx_import.py.

    torch_round_trip.py OUTPUT_DIR MODEL...   write each model's files
    torch_round_trip.py --status [MODEL...]   export and import each model, print the importer's verdict
    torch_round_trip.py --list                the model names
    torch_round_trip.py --blob                those whose weights are imported as a blob

For each MODEL: torch_MODEL.onnx (eval mode, batch norms kept as
BatchNormalization nodes, opset 13, a fixed batch of 2, so that
the exporter folds shape arithmetic such as an LSTM's zero initial state into
constants; the importer drops the batch dimension either way),
torch_MODEL.npz (input_K: the random batch of input K; expected_K: PyTorch's
output K for it; floor_K: the absolute floor of output K's tolerance; float32) and torch_round_trip_MODEL.cpp, the Catch2 test
that runs the imported network on that batch and checks that it has the
parameter count of the DSL model. Weights and inputs are drawn from a fixed
seed; weights are He-scaled so that the outputs of deep models stay of
order one, and batch norms get the statistics of the batch itself, each
variance scaled by a random factor.
"""

import copy
import io
import os
import sys
import warnings

sys.dont_write_bytecode = True  # the build must leave the source tree as it was
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

import onnx_import  # noqa: E402

OPSET = 13
BATCH = 2
SEED = 2024


# --- the models, as in dsl/models/*.hpp ----------------------------------------
class Mlp(nn.Module):
    """mlp.hpp: 784 → 256 → 128 → 10 with ReLU."""

    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.fc3 = nn.Linear(784, 256), nn.Linear(256, 128), nn.Linear(128, 10)

    def forward(self, image):
        return self.fc3(torch.relu(self.fc2(torch.relu(self.fc1(image)))))


class LeNet(nn.Module):
    """lenet.hpp: conv 20 5×5, pool 2, conv 50 5×5, pool 2, ip 500 + ReLU, ip 10."""

    def __init__(self):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(1, 20, 5), nn.Conv2d(20, 50, 5)
        self.ip1, self.ip2 = nn.Linear(800, 500), nn.Linear(500, 10)

    def pool1(self, image):
        return nn.functional.max_pool2d(self.conv1(image), 2)

    def head(self, pool1):
        features = nn.functional.max_pool2d(self.conv2(pool1), 2)
        return self.ip2(torch.relu(self.ip1(torch.flatten(features, 1))))

    def forward(self, image):
        return self.head(self.pool1(image))


class LeNetAux(LeNet):
    """lenet_aux.hpp: LeNet and the side classifier ip1_side on pool1; two outputs."""

    def __init__(self):
        super().__init__()
        self.ip1_side = nn.Linear(20 * 12 * 12, 10)

    def forward(self, image):
        pool1 = self.pool1(image)
        return self.head(pool1), self.ip1_side(torch.flatten(pool1, 1))


def classifier(features):
    """fc6 4096 + ReLU + dropout 0.5, fc7 4096 + ReLU + dropout 0.5, fc8 1000 (AlexNet and VGG16)."""
    return nn.Sequential(nn.Flatten(), nn.Linear(features, 4096), nn.ReLU(), nn.Dropout(0.5),
                         nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(0.5), nn.Linear(4096, 1000))


class AlexNet(nn.Module):
    """alexnet.hpp: Caffe's bvlc_alexnet without LRN, grouped conv2, conv4, conv5; [3, 227, 227]."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 96, 11, stride=4), nn.ReLU(), nn.MaxPool2d(3, 2),
            nn.Conv2d(96, 256, 5, padding=2, groups=2), nn.ReLU(), nn.MaxPool2d(3, 2),
            nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(),
            nn.Conv2d(384, 384, 3, padding=1, groups=2), nn.ReLU(),
            nn.Conv2d(384, 256, 3, padding=1, groups=2), nn.ReLU(), nn.MaxPool2d(3, 2))
        self.classifier = classifier(256 * 6 * 6)

    def forward(self, data):
        return self.classifier(self.features(data))


class Vgg16(nn.Module):
    """vgg16.hpp: configuration D, 3×3 convolutions with padding 1 and ReLU; [3, 224, 224]."""

    def __init__(self):
        super().__init__()
        layers, c = [], 3
        for stage in ([64] * 2, [128] * 2, [256] * 3, [512] * 3, [512] * 3):
            for width in stage:
                layers += [nn.Conv2d(c, width, 3, padding=1), nn.ReLU()]
                c = width
            layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        self.classifier = classifier(512 * 7 * 7)

    def forward(self, data):
        return self.classifier(self.features(data))


def conv_bn(c_in, c_out, f, stride):
    return nn.Sequential(nn.Conv2d(c_in, c_out, f, stride=stride, padding=f // 2, bias=False), nn.BatchNorm2d(c_out))


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, c_in, width, stride):
        super().__init__()
        self.branch = nn.Sequential(conv_bn(c_in, width, 3, stride), nn.ReLU(), conv_bn(width, width, 3, 1))
        self.shortcut = conv_bn(c_in, width, 1, stride) if stride != 1 or c_in != width else nn.Identity()

    def forward(self, x):
        return torch.relu(self.branch(x) + self.shortcut(x))


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, c_in, width, stride):
        super().__init__()
        out = 4 * width
        self.branch = nn.Sequential(conv_bn(c_in, width, 1, 1), nn.ReLU(), conv_bn(width, width, 3, stride), nn.ReLU(),
                                    conv_bn(width, out, 1, 1))
        self.shortcut = conv_bn(c_in, out, 1, stride) if stride != 1 or c_in != out else nn.Identity()

    def forward(self, x):
        return torch.relu(self.branch(x) + self.shortcut(x))


class ResNet(nn.Module):
    """resnet.hpp: torchvision's layout (v1.5: a bottleneck's stride on its 3×3); [3, 224, 224]."""

    def __init__(self, block, blocks):
        super().__init__()
        layers, c = [conv_bn(3, 64, 7, 2), nn.ReLU(), nn.MaxPool2d(3, 2, padding=1)], 64
        for s, n in enumerate(blocks):
            width = 64 << s
            for j in range(n):
                layers.append(block(c, width, 2 if s > 0 and j == 0 else 1))
                c = width * block.expansion
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(c, 1000)

    def forward(self, image):
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(self.features(image), 1), 1))


def conv_relu(c_in, c_out, f, **options):
    return nn.Sequential(nn.Conv2d(c_in, c_out, f, **options), nn.ReLU())


class Inception(nn.Module):
    def __init__(self, c_in, a, r3, c3, r5, c5, proj):
        super().__init__()
        self.b1 = conv_relu(c_in, a, 1)
        self.b3 = nn.Sequential(conv_relu(c_in, r3, 1), conv_relu(r3, c3, 3, padding=1))
        self.b5 = nn.Sequential(conv_relu(c_in, r5, 1), conv_relu(r5, c5, 5, padding=2))
        self.bp = nn.Sequential(nn.MaxPool2d(3, 1, padding=1), conv_relu(c_in, proj, 1))
        self.channels = a + c3 + c5 + proj

    def forward(self, x):
        return torch.cat([self.b1(x), self.b3(x), self.b5(x), self.bp(x)], 1)


class Auxiliary(nn.Module):
    def __init__(self, c_in):
        super().__init__()
        self.layers = nn.Sequential(nn.AvgPool2d(5, 3), conv_relu(c_in, 128, 1), nn.Flatten(),
                                    nn.Linear(2048, 1024), nn.ReLU(), nn.Dropout(0.7), nn.Linear(1024, 1000))

    def forward(self, x):
        return self.layers(x)


class GoogLeNet(nn.Module):
    """googlenet.hpp: bvlc_googlenet without LRN, with its two auxiliary classifiers as outputs 1 and 2
    (the DSL network counts their parameters; exported without them, they would be pruned)."""

    def __init__(self):
        super().__init__()
        pool = lambda: nn.MaxPool2d(3, 2, ceil_mode=True)  # noqa: E731
        self.stem = nn.Sequential(conv_relu(3, 64, 7, stride=2, padding=3), pool(), conv_relu(64, 64, 1),
                                  conv_relu(64, 192, 3, padding=1), pool())
        i3a = Inception(192, 64, 96, 128, 16, 32, 32)
        i3b = Inception(256, 128, 128, 192, 32, 96, 64)
        i4a = Inception(480, 192, 96, 208, 16, 48, 64)
        self.to_4a = nn.Sequential(i3a, i3b, pool(), i4a)
        self.to_4d = nn.Sequential(Inception(512, 160, 112, 224, 24, 64, 64), Inception(512, 128, 128, 256, 24, 64, 64),
                                   Inception(512, 112, 144, 288, 32, 64, 64))
        self.head = nn.Sequential(Inception(528, 256, 160, 320, 32, 128, 128), pool(),
                                  Inception(832, 256, 160, 320, 32, 128, 128),
                                  Inception(832, 384, 192, 384, 48, 128, 128),
                                  nn.AvgPool2d(7, 1), nn.Flatten(), nn.Dropout(0.4), nn.Linear(1024, 1000))
        self.aux1, self.aux2 = Auxiliary(512), Auxiliary(528)

    def forward(self, data):
        i4a = self.to_4a(self.stem(data))
        i4d = self.to_4d(i4a)
        return self.head(i4d), self.aux1(i4a), self.aux2(i4d)


class RowLstm(nn.Module):
    """row_lstm.hpp: the 28 rows of an image into an LSTM of 128; its final state into 10 classes."""

    def __init__(self):
        super().__init__()
        self.lstm, self.fc = nn.LSTM(28, 128, batch_first=True), nn.Linear(128, 10)

    def forward(self, image):
        _, (h, _) = self.lstm(image)
        return self.fc(h[0])


class CharLm(nn.Module):
    """char_lm.hpp's training network: ids (fed as floats, as ctnn feeds them) → embedding 32 →
    LSTM 256 from the initial state (h0, c0) → 98 scores at each of the 64 steps."""

    def __init__(self):
        super().__init__()
        self.emb, self.lstm, self.out = nn.Embedding(98, 32), nn.LSTM(32, 256, batch_first=True), nn.Linear(256, 98)

    def forward(self, ids, h0, c0):
        y, _ = self.lstm(self.emb(ids.long()), (h0.unsqueeze(0), c0.unsqueeze(0)))
        return self.out(y)


class Spec:
    """A model: its PyTorch module, inputs (name, per-sample shape, kind), outputs, the DSL network,
    and how the importer writes its weights (onnx_import.py --weights)."""

    def __init__(self, build, inputs, outputs, dsl_header, dsl_network, weights="literal"):
        self.build, self.inputs, self.outputs = build, inputs, outputs
        self.dsl_header, self.dsl_network = dsl_header, dsl_network
        self.weights = weights


# Models of millions of weights are linked in as a blob: as literals they
# would cost the compiler about 0.7 KB of memory per weight (docs/deploy.md).
BLOB = "blob"


IMAGE = "normal"
MODELS = {
    "mlp": Spec(Mlp, [("image", (784,), IMAGE)], ["logits"], "mlp.hpp", "ctnn::models::mlp::network"),
    "lenet": Spec(LeNet, [("image", (1, 28, 28), IMAGE)], ["logits"], "lenet.hpp", "ctnn::models::lenet::network"),
    "lenet_aux": Spec(LeNetAux, [("image", (1, 28, 28), IMAGE)], ["logits", "side_logits"], "lenet_aux.hpp",
                      "ctnn::models::lenet_aux::network"),
    "alexnet": Spec(AlexNet, [("data", (3, 227, 227), IMAGE)], ["logits"], "alexnet.hpp",
                    "ctnn::models::alexnet::network", BLOB),
    "vgg16": Spec(Vgg16, [("data", (3, 224, 224), IMAGE)], ["logits"], "vgg16.hpp", "ctnn::models::vgg16::network",
                  BLOB),
    "resnet18": Spec(lambda: ResNet(BasicBlock, [2, 2, 2, 2]), [("image", (3, 224, 224), IMAGE)], ["logits"],
                     "resnet.hpp", "ctnn::models::resnet::resnet18<224>", BLOB),
    "resnet50": Spec(lambda: ResNet(Bottleneck, [3, 4, 6, 3]), [("image", (3, 224, 224), IMAGE)], ["logits"],
                     "resnet.hpp", "ctnn::models::resnet::resnet50<224>", BLOB),
    "googlenet": Spec(GoogLeNet, [("data", (3, 224, 224), IMAGE)], ["logits", "aux1", "aux2"], "googlenet.hpp",
                      "ctnn::models::googlenet::network", BLOB),
    "row_lstm": Spec(RowLstm, [("image", (28, 28), IMAGE)], ["logits"], "row_lstm.hpp",
                     "ctnn::models::row_lstm::network"),
    "char_lm": Spec(CharLm, [("ids", (64,), "ids98"), ("h0", (256,), IMAGE), ("c0", (256,), IMAGE)], ["scores"],
                    "char_lm.hpp", "ctnn::models::char_lm::network"),
}


# --- weights, inputs, export ---------------------------------------------------
def randomize(model):
    """He-scaled weights (std √(2/fan_in)), small biases, batch norms with random statistics."""
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            fan_in = m.weight[0].numel()
            nn.init.normal_(m.weight, std=(2.0 / fan_in) ** 0.5)
            if m.bias is not None:
                nn.init.uniform_(m.bias, -0.1, 0.1)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.uniform_(m.weight, 0.5, 1.5)
            nn.init.uniform_(m.bias, -0.1, 0.1)
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
        elif isinstance(m, (nn.LSTM, nn.Embedding)):
            for p in m.parameters():
                nn.init.uniform_(p, -0.3, 0.3)


def calibrate_batch_norms(model, inputs):
    """Running statistics of the batch's own activations, each scaled by a random factor: the
    batch norms normalize roughly, so a deep residual model's outputs stay of order one (with
    made-up statistics ResNet-50's reach 86,000, and float rounding grows with them)."""
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    if not norms:
        return
    for m in norms:
        m.momentum = 1.0  # the running statistics become the batch's
    model.train()
    with torch.no_grad():
        model(*inputs)
        for m in norms:
            m.momentum = 0.1
            m.running_var.mul_(torch.empty_like(m.running_var).uniform_(0.8, 1.25))


def make_inputs(spec, generator):
    batch = []
    for _, shape, kind in spec.inputs:
        if kind == "ids98":
            batch.append(torch.randint(0, 98, (BATCH,) + shape, generator=generator).float())
        else:
            batch.append(torch.randn((BATCH,) + shape, generator=generator))
    return batch


def export(name):
    """The model in eval mode, its ONNX bytes, its inputs and PyTorch's outputs."""
    spec = MODELS[name]
    torch.manual_seed(SEED)
    generator = torch.Generator().manual_seed(SEED + 1)
    model = spec.build()
    with torch.no_grad():
        randomize(model)
    inputs = make_inputs(spec, generator)
    calibrate_batch_norms(model, inputs)
    model.eval()
    with torch.no_grad():
        outputs = model(*inputs)
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    buffer = io.BytesIO()
    input_names = [n for n, _, _ in spec.inputs]
    with warnings.catch_warnings():  # the exporter's advice on other batch sizes and on its shape inference
        warnings.simplefilter("ignore", UserWarning)
        # PRESERVE exports the model in the mode it is in (eval) but skips the
        # exporter's eval-mode pass that folds each BatchNormalization into the
        # Conv before it, which would leave the DSL model's batch norms out.
        torch.onnx.export(model, tuple(inputs), buffer, opset_version=OPSET, input_names=input_names,
                          output_names=spec.outputs, do_constant_folding=True,
                          training=torch.onnx.TrainingMode.PRESERVE)
    return spec, model, buffer.getvalue(), inputs, outputs


def param_count(model):
    return sum(p.numel() for p in model.parameters())


def import_model(onnx_bytes, namespace, source):
    """The importer's header, or raises onnx_import.Refused."""
    model = onnx.load_from_string(onnx_bytes)
    model = onnx.shape_inference.infer_shapes(model)
    imp = onnx_import.Importer(model)
    imp.run()
    return imp


# --- the Catch2 test of one model ------------------------------------------------
CPP = """\
// Generated by tests/onnx/torch_round_trip.py; do not edit.
// dsl/models/{header}'s network built in PyTorch, exported to ONNX and imported by
// tools/onnx_import.py (torch_{name}.hpp): it has the DSL model's parameter count,
// and on PyTorch's random batch it gives PyTorch's outputs.
#include <memory>

#include <catch2/catch.hpp>
#include <ctnn/ctnn.hpp>
#include <models/{header}>

#include "torch_round_trip_check.hpp"
#include "torch_{name}.hpp"

static_assert(torch_{name}::network::param_count == {dsl}::param_count,
              "the PyTorch {name} must have the parameters of {dsl}");

TEST_CASE("torch_round_trip: {name}") {{
  const ctnn_torch::data_set data(CTNN_TORCH_MODELS_DIR "/torch_{name}.npz");
  auto m = std::make_unique<ctnn::model<torch_{name}::network, {batch}, float>>();
  torch_{name}::load(*m);
{checks}}}
"""


def write_if_changed(path, data):
    mode = "b" if isinstance(data, bytes) else ""
    if os.path.exists(path):
        with open(path, "r" + mode) as f:
            if f.read() == data:
                return
    with open(path, "w" + mode) as f:
        f.write(data)


def tolerance_floors(model, inputs, outputs):
    """Per output: the absolute floor of the test's tolerance, the larger of 1e-5 of the output's
    largest |value| and twice PyTorch's own float32 error (against the same model in float64).
    ctnn's float32 result may stray from the exact one as far as PyTorch's does, on the other side;
    deep models (ResNet-50: 7e-5 on values up to 4.6) round more than shallow ones."""
    exact = copy.deepcopy(model).double()
    with torch.no_grad():
        y64 = exact(*[x.double() for x in inputs])
    y64 = y64 if isinstance(y64, tuple) else (y64,)
    floors = []
    for y, e in zip(outputs, y64):
        own = float((y.double() - e).abs().max())
        floors.append(max(1e-5 * max(1.0, float(y.abs().max())), 2 * own))
    return floors


def write(out_dir, name):
    spec, model, onnx_bytes, inputs, outputs = export(name)
    write_if_changed(os.path.join(out_dir, "torch_%s.onnx" % name), onnx_bytes)
    arrays = {"input_%d" % k: x.numpy().astype(np.float32) for k, x in enumerate(inputs)}
    arrays.update({"expected_%d" % k: y.numpy().astype(np.float32) for k, y in enumerate(outputs)})
    floors = tolerance_floors(model, inputs, outputs)
    arrays.update({"floor_%d" % k: np.array([f], dtype=np.float32) for k, f in enumerate(floors)})
    npz = io.BytesIO()
    np.savez(npz, **arrays)
    write_if_changed(os.path.join(out_dir, "torch_%s.npz" % name), npz.getvalue())
    feeds = ", ".join('ctnn::feed<"%s">(data.input(%d))' % (onnx_import.sanitize(n), k)
                      for k, (n, _, _) in enumerate(spec.inputs))
    checks = "".join('  data.check(%d, m->template predict<%d>(%s));\n' % (k, k, feeds) for k in range(len(outputs)))
    write_if_changed(os.path.join(out_dir, "torch_round_trip_%s.cpp" % name),
                     CPP.format(name=name, header=spec.dsl_header, dsl=spec.dsl_network, batch=BATCH, checks=checks))


def status(names):
    """Exports and imports each model; one line each: imports, or the importer's refusal."""
    for name in names:
        spec, model, onnx_bytes, _, _ = export(name)
        try:
            imp = import_model(onnx_bytes, "torch_" + name, name)
            verdict = "imports, %d parameters" % imp.param_count
        except onnx_import.Refused as e:
            verdict = "refused: %s" % e
        print("%s: PyTorch has %d parameters; %s" % (name, param_count(model), verdict), flush=True)


def main(argv):
    if argv[:1] == ["--list"]:
        print("\n".join(MODELS))
        return 0
    if argv[:1] == ["--blob"]:
        print("\n".join(n for n, spec in MODELS.items() if spec.weights == BLOB))
        return 0
    if argv[:1] == ["--status"]:
        status(argv[1:] or list(MODELS))
        return 0
    if len(argv) < 2 or any(n not in MODELS for n in argv[1:]):
        sys.stderr.write("usage: torch_round_trip.py OUTPUT_DIR MODEL... | --status [MODEL...] | --list | --blob\n"
                         "models: %s\n" % ", ".join(MODELS))
        return 1
    os.makedirs(argv[0], exist_ok=True)
    for name in argv[1:]:
        write(argv[0], name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
