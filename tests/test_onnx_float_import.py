"""Float ONNX importer: small seeded PyTorch models, exported by both torch exporters, imported to float32 IR.

Each IR is run with the ops' float references (`run_reference`) and compared with onnxruntime on the
same .onnx: max |diff| / max |onnxruntime| per output must be <= 1e-5. The IR's structure is checked
too (what was folded/fused, no run-time transposes, weight layouts).
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from microforge.errors import UnsupportedModelError
from microforge.importers import load_model
from microforge.reference import run_reference

from support import SHARED

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional

RTOL = 1e-5
EXPORTERS = ["dynamo", "legacy"]
OPSETS = {"dynamo": None, "legacy": None, "dynamo18": 18, "legacy13": 13}  # None: the exporter's default


def export(module: nn.Module, shape: tuple[int, ...], path: Path, exporter: str, dynamic_batch: bool = False) -> Path:
    module.eval()
    x = torch.randn(*shape)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        if OPSETS[exporter] is not None:
            extra = {"opset_version": OPSETS[exporter]}
        else:
            extra = {}
        if exporter.startswith("dynamo"):
            if dynamic_batch:
                extra["dynamic_shapes"] = ({0: torch.export.Dim("batch", min=1, max=64)},)
            program = torch.onnx.export(module, (x,), dynamo=True, external_data=False, verbose=False, **extra)
            program.save(str(path))
        else:
            if dynamic_batch:
                extra["dynamic_axes"] = {"x": {0: "N"}}
            buf = io.BytesIO()
            torch.onnx.export(module, (x,), buf, dynamo=False, input_names=["x"], **extra)
            path.write_bytes(buf.getvalue())
    return path


def compare(path: Path, n: int = 4, seed: int = 0) -> tuple:
    """Import `path`, run the float reference and onnxruntime on `n` random inputs; returns (graph, worst rel err)."""
    g = load_model(path)
    sess = ort.InferenceSession(str(path))
    rng = np.random.default_rng(seed)
    worst = 0.0
    for _ in range(n):
        feeds, ours_in = {}, []
        for spec, name in zip(sess.get_inputs(), g.inputs):
            shape = [d if isinstance(d, int) else 1 for d in spec.shape]
            x = rng.standard_normal(shape).astype(np.float32)
            feeds[spec.name] = x
            ir_shape = g.tensor(name).shape
            ours_in.append(x.transpose(0, 2, 3, 1) if x.ndim == 4 and x.shape != ir_shape else x.reshape(ir_shape))
        theirs = sess.run(None, feeds)
        ours = run_reference(g, ours_in)
        assert len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            if t.ndim == 4 and t.shape != o.shape:
                t = t.transpose(0, 2, 3, 1)  # 4-D outputs stay NHWC in the IR
            assert o.dtype == np.float32
            err = float(np.abs(o - t.reshape(o.shape)).max() / max(np.abs(t).max(), 1e-30))
            worst = max(worst, err)
    return g, worst


def ops_of(g) -> list[str]:
    return [n.op for n in g.nodes]


def _randomize_bn(module: nn.Module) -> None:
    """Non-trivial running statistics, so that a wrong BatchNorm fold shows."""
    for m in module.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            with torch.no_grad():
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)


# ------------------------------------------------------------------ the small models
class ConvBnRelu(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1, self.b1 = nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8)
        self.c2, self.b2 = nn.Conv2d(8, 12, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(12)
        self.c3 = nn.Conv2d(12, 6, 3, padding=2, dilation=2)  # TFLite SAME

    def forward(self, x):
        x = F.relu(self.b1(self.c1(x)))
        x = F.relu(self.b2(self.c2(x)))
        return self.c3(x)


class Depthwise(nn.Module):
    def __init__(self):
        super().__init__()
        self.pw = nn.Conv2d(4, 8, 1)
        self.dw, self.bn = nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False), nn.BatchNorm2d(8)
        self.dw2 = nn.Conv2d(8, 16, 3, stride=2, groups=8)  # depth multiplier 2, VALID
        self.dw3 = nn.Conv2d(16, 16, 3, stride=2, padding=1, groups=16)  # pads [1,1,1,1] are not TFLite SAME here

    def forward(self, x):
        x = F.relu(self.pw(x))
        x = F.relu6(self.bn(self.dw(x)))
        x = F.hardtanh(self.dw2(x))
        return F.relu6(self.dw3(x))


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1, self.b1 = nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8)
        self.c2, self.b2 = nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8)
        self.b3 = nn.BatchNorm2d(8)  # after the Add: standalone (MUL + ADD)

    def forward(self, x):
        y = F.relu(self.b1(self.c1(x)))
        y = self.b2(self.c2(y))
        z = F.relu(x + y)
        return torch.sigmoid(self.b3(z + z * 0.5))


class Pools(nn.Module):
    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(3, 8, 3, padding=1)
        self.fc = nn.Linear(16, 5)

    def forward(self, x):
        x = F.relu(self.c(x))  # 12x12
        a = F.avg_pool2d(x, 2)  # 6x6
        a = F.avg_pool2d(a, 3, stride=1, padding=1)  # count_include_pad=True: an explicit PAD
        m = F.max_pool2d(x, 3, stride=2, padding=1)  # after a ReLU: zero padding is exact
        m = F.max_pool2d(m, 2)  # 3x3
        g1 = F.adaptive_avg_pool2d(a, 1).flatten(1)
        g2 = m.mean(dim=(2, 3))
        return self.fc(torch.cat([g1, g2], dim=1))


class FlattenLinear(nn.Module):
    """x.flatten(1) of a real 4x4 NCHW map -> Linear: the weights' columns are permuted, nothing is transposed."""

    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(3, 6, 3, stride=2, padding=1)
        self.fc1, self.fc2 = nn.Linear(6 * 4 * 4, 20), nn.Linear(20, 7)

    def forward(self, x):
        x = F.relu(self.c(x))
        return self.fc2(F.relu(self.fc1(x.flatten(1))))


class Heads(nn.Module):
    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(3, 8, 3)
        self.cls, self.box, self.score = nn.Linear(8, 5), nn.Linear(8, 4), nn.Linear(8, 1)
        self.bn = nn.BatchNorm1d(8)  # after a Linear in the legacy export: folded into it

    def forward(self, x):
        f = F.adaptive_avg_pool2d(F.relu(self.c(x)), 1).flatten(1)
        return torch.softmax(self.cls(f), dim=-1), torch.tanh(self.box(f)), torch.sigmoid(self.score(f))


class Concat(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Conv2d(4, 6, 1), nn.Conv2d(4, 5, 3, padding=1)
        self.c = nn.Conv2d(15, 8, 3, padding=1)

    def forward(self, x):
        return self.c(torch.cat([F.relu(self.a(x)), torch.tanh(self.b(x)), x], dim=1))


class Padding(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 4, 3)
        self.c2 = nn.Conv2d(4, 4, (2, 3), padding=(1, 0))
        self.c3 = nn.Conv2d(4, 4, 4, padding="same")  # even kernel: asymmetric pads

    def forward(self, x):
        x = self.c1(F.pad(x, (1, 2, 0, 1)))
        x = self.c2(F.pad(x, (0, 0, 2, 1), value=0.5))
        return self.c3(x)


class SqueezeExcite(nn.Module):
    """x * sigmoid(fc(relu(fc(mean(x))))).view(1, C, 1, 1): a [1, C, 1, 1] activation broadcast in a MUL."""

    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(3, 8, 3, padding=1)
        self.f1, self.f2 = nn.Linear(8, 4), nn.Linear(4, 8)

    def forward(self, x):
        x = F.relu(self.c(x))
        s = torch.sigmoid(self.f2(F.relu(self.f1(x.mean(dim=(2, 3))))))
        return F.relu(x * s.view(1, 8, 1, 1)) + x


class Mlp3d(nn.Module):
    """Linear on [1, tokens, features]: MatMul + Add -> FULLY_CONNECTED with keep_num_dims."""

    def __init__(self):
        super().__init__()
        self.l1, self.l2 = nn.Linear(16, 24), nn.Linear(24, 10)

    def forward(self, x):
        return torch.softmax(self.l2(F.relu(self.l1(x)) - 0.25) / 2.0, dim=-1)


class ViewFlatten(nn.Module):
    """x.view(x.size(0), -1) with a dynamic batch: Shape/Gather/Concat folded to a constant shape."""

    def __init__(self):
        super().__init__()
        self.c, self.bn = nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4)
        self.fc, self.bn1 = nn.Linear(4 * 3 * 5, 6), nn.BatchNorm1d(6)

    def forward(self, x):
        x = F.relu6(self.bn(self.c(x)))
        return self.bn1(self.fc(x.view(x.size(0), -1)))


class LinearToMap(nn.Module):
    """Linear -> view(1, C, H, W) -> Conv (a decoder's start): the FC's rows are permuted to write NHWC."""

    def __init__(self):
        super().__init__()
        self.fc, self.c = nn.Linear(10, 6 * 3 * 4), nn.Conv2d(6, 5, 3, padding=1)

    def forward(self, x):
        return self.c(F.relu(self.fc(x)).view(1, 6, 3, 4))


# (model class, input shape, IR ops that must appear, IR ops that must not)
CASES = {
    "conv_bn_relu": (ConvBnRelu, (1, 3, 9, 9), {"CONV_2D"}, {"MUL", "ADD", "PAD"}),
    "depthwise": (Depthwise, (1, 4, 13, 13), {"DEPTHWISE_CONV_2D", "PAD"}, {"MUL", "ADD"}),
    "residual": (Residual, (1, 8, 6, 6), {"ADD", "MUL", "LOGISTIC"}, set()),
    "pools": (Pools, (1, 3, 12, 12), {"AVERAGE_POOL_2D", "MAX_POOL_2D", "MEAN", "PAD", "CONCATENATION"}, set()),
    "flatten_linear": (FlattenLinear, (1, 3, 7, 7), {"FULLY_CONNECTED", "RESHAPE"}, {"ADD"}),
    "heads": (Heads, (1, 3, 7, 7), {"SOFTMAX", "TANH", "LOGISTIC", "MEAN"}, set()),
    "concat": (Concat, (1, 4, 5, 6), {"CONCATENATION", "TANH"}, set()),
    "padding": (Padding, (1, 3, 9, 8), {"PAD", "PADV2"}, set()),
    "squeeze_excite": (SqueezeExcite, (1, 3, 6, 5), {"MUL", "LOGISTIC", "MEAN"}, set()),
    "mlp3d": (Mlp3d, (1, 6, 16), {"FULLY_CONNECTED", "SOFTMAX"}, set()),  # ops checked in test_mlp3d_...
    "linear_to_map": (LinearToMap, (1, 10), {"FULLY_CONNECTED", "CONV_2D"}, set()),
    "view_flatten": (ViewFlatten, (1, 2, 3, 5), {"FULLY_CONNECTED"}, {"MUL", "ADD"}),
}


@pytest.mark.parametrize("exporter", list(OPSETS))
@pytest.mark.parametrize("case", list(CASES))
def test_torch_model_matches_onnxruntime(case, exporter, tmp_path):
    cls, shape, must, must_not = CASES[case]
    torch.manual_seed(list(CASES).index(case))
    module = cls()
    _randomize_bn(module)
    path = export(module, shape, tmp_path / f"{case}.onnx", exporter, dynamic_batch=case == "view_flatten")
    opset = max(o.version for o in onnx.load(path).opset_import if o.domain in ("", "ai.onnx"))
    assert OPSETS[exporter] in (None, opset)
    g, worst = compare(path)
    seen = set(ops_of(g))
    print(f"{case} ({exporter}, opset {opset}): {ops_of(g)}; float reference vs onnxruntime: max rel err {worst:.2e}")
    assert worst <= RTOL
    assert must <= seen, f"missing {must - seen}"
    assert not (must_not & seen), f"unexpected {must_not & seen}"
    assert all(g.tensor(t).dtype == "float32" for t in g.inputs + g.outputs)
    assert all(t.quant is None for t in g.tensors.values())
    if len(shape) == 4:
        assert g.tensor(g.inputs[0]).shape == (shape[0], shape[2], shape[3], shape[1])  # NHWC input


@pytest.mark.parametrize("exporter", EXPORTERS)
def test_conv_bn_relu_is_folded_and_fused(exporter, tmp_path):
    torch.manual_seed(1)
    module = ConvBnRelu()
    _randomize_bn(module)
    g = load_model(export(module, (1, 3, 9, 9), tmp_path / "m.onnx", exporter))
    assert ops_of(g) == ["CONV_2D", "CONV_2D", "CONV_2D"]
    assert [n.attrs.activation for n in g.nodes] == ["RELU", "RELU", "NONE"]
    assert [n.attrs.padding for n in g.nodes] == ["SAME", "SAME", "SAME"]
    assert g.nodes[2].attrs.dilation_h == 2
    assert g.tensor(g.nodes[0].inputs[1]).shape == (8, 3, 3, 3)  # OHWI
    assert g.nodes[1].inputs[2] is not None  # BatchNorm made a bias for the bias-free conv
    assert g.tensor(g.outputs[0]).shape == (1, 5, 5, 6)  # 4-D output stays NHWC


@pytest.mark.parametrize("exporter", EXPORTERS)
def test_depthwise_layouts_and_padding(exporter, tmp_path):
    torch.manual_seed(2)
    module = Depthwise()
    _randomize_bn(module)
    g = load_model(export(module, (1, 4, 13, 13), tmp_path / "m.onnx", exporter))
    assert ops_of(g) == ["CONV_2D", "DEPTHWISE_CONV_2D", "DEPTHWISE_CONV_2D", "PAD", "DEPTHWISE_CONV_2D"]
    dws = [n for n in g.nodes if n.op == "DEPTHWISE_CONV_2D"]
    assert [n.attrs.activation for n in dws] == ["RELU6", "RELU_N1_TO_1", "RELU6"]
    assert [n.attrs.depth_multiplier for n in dws] == [1, 2, 1]
    assert [n.attrs.padding for n in dws] == ["SAME", "VALID", "VALID"]
    assert g.tensor(dws[1].inputs[1]).shape == (1, 3, 3, 16)  # 1HW(C*M)
    w = module.dw2.weight.detach().numpy()  # [16, 1, 3, 3]
    np.testing.assert_array_equal(g.tensor(dws[1].inputs[1]).data[0, :, :, 5], w[5, 0])
    pad = next(n for n in g.nodes if n.op == "PAD")
    np.testing.assert_array_equal(g.tensor(pad.inputs[1]).data, [[0, 0], [1, 1], [1, 1], [0, 0]])


@pytest.mark.parametrize("exporter", EXPORTERS)
def test_flatten_of_feature_map_permutes_fc_weights(exporter, tmp_path):
    torch.manual_seed(3)
    module = FlattenLinear()
    g = load_model(export(module, (1, 3, 7, 7), tmp_path / "m.onnx", exporter))
    assert ops_of(g) == ["CONV_2D", "RESHAPE", "FULLY_CONNECTED", "FULLY_CONNECTED"]
    fc = g.nodes[2]
    w = g.tensor(fc.inputs[1]).data  # [out, in], columns in the NHWC order of the conv output
    torch_w = module.fc1.weight.detach().numpy().reshape(20, 6, 4, 4)  # columns in NCHW order
    np.testing.assert_array_equal(w, torch_w.transpose(0, 2, 3, 1).reshape(20, 96))
    assert g.tensor(fc.inputs[0]).shape == (1, 96)
    assert fc.attrs.activation == "RELU"


@pytest.mark.parametrize("exporter", EXPORTERS)
def test_residual_bn_after_add_is_mul_add(exporter, tmp_path):
    torch.manual_seed(4)
    module = Residual()
    _randomize_bn(module)
    g = load_model(export(module, (1, 8, 6, 6), tmp_path / "m.onnx", exporter))
    # conv(+bn+relu), conv(+bn), x + y (+relu), z * 0.5, z + z*0.5, BN -> MUL + ADD, sigmoid
    assert ops_of(g) == ["CONV_2D", "CONV_2D", "ADD", "MUL", "ADD", "MUL", "ADD", "LOGISTIC"]
    assert [n.attrs.activation for n in g.nodes[:3]] == ["RELU", "NONE", "RELU"]
    scale = g.tensor(g.nodes[5].inputs[1])
    assert scale.shape == (1, 1, 1, 8)  # per channel, NHWC


@pytest.mark.parametrize("exporter", EXPORTERS)
def test_mlp3d_bias_add_folds_and_constants_are_rewritten(exporter, tmp_path):
    """MatMul + Add(bias) -> one FC (keep_num_dims); Sub/Div by constants -> ADD(-c) / MUL(1/c)."""
    torch.manual_seed(6)
    module = Mlp3d()
    g = load_model(export(module, (1, 6, 16), tmp_path / "m.onnx", exporter))
    assert ops_of(g) == ["FULLY_CONNECTED", "ADD", "FULLY_CONNECTED", "MUL", "SOFTMAX"]
    fc1, sub, fc2, div = g.nodes[:4]
    assert fc1.attrs.activation == "RELU" and fc1.attrs.keep_num_dims and g.tensor(fc1.outputs[0]).shape == (1, 6, 24)
    np.testing.assert_array_equal(g.tensor(fc1.inputs[2]).data, module.l1.bias.detach().numpy())
    np.testing.assert_array_equal(g.tensor(sub.inputs[1]).data.ravel(), [-0.25])
    np.testing.assert_array_equal(g.tensor(div.inputs[1]).data.ravel(), [0.5])


def test_standalone_relu_is_a_relu_op(tmp_path):
    """Relu / Clip on a graph input (no producer to fuse into): standalone RELU / RELU6 ops, exact."""
    nodes = [helper.make_node("Relu", ["x"], ["r"], "relu"), helper.make_node("Clip", ["x", "lo", "hi"], ["c"], "clip"),
             helper.make_node("Add", ["r", "c"], ["y"], "add")]
    inits = [numpy_helper.from_array(np.array(0, np.float32), "lo"), numpy_helper.from_array(np.array(6, np.float32), "hi")]
    model = helper.make_model(
        helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 4, 5])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 4, 5])], inits),
        opset_imports=[helper.make_opsetid("", 13)])
    onnx.save(model, tmp_path / "m.onnx")
    g, worst = compare(tmp_path / "m.onnx")
    assert ops_of(g) == ["RELU", "RELU6", "ADD"] and g.nodes[2].attrs.activation == "NONE"
    assert worst == 0.0


def test_transposes_requested_by_the_model_are_layout_only(tmp_path):
    """NHWC input -> Transpose -> Cast (float) -> Conv -> Transpose -> NHWC output: no data moves, no TRANSPOSE op."""
    rng = np.random.default_rng(5)
    inits = [numpy_helper.from_array(rng.standard_normal((6, 4, 3, 3)).astype(np.float32), "w")]
    nodes = [helper.make_node("Transpose", ["x"], ["xt0"], "to_nchw", perm=[0, 3, 1, 2]),
             helper.make_node("Cast", ["xt0"], ["xt"], "cast", to=TensorProto.FLOAT),
             helper.make_node("Conv", ["xt", "w"], ["c"], "conv", kernel_shape=[3, 3], strides=[2, 2],
                              auto_pad="SAME_UPPER"),
             helper.make_node("Transpose", ["c"], ["y"], "to_nhwc", perm=[0, 2, 3, 1])]
    model = helper.make_model(
        helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 9, 7, 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 5, 4, 6])], inits),
        opset_imports=[helper.make_opsetid("", 17)])
    onnx.save(model, tmp_path / "m.onnx")
    g, worst = compare(tmp_path / "m.onnx")
    assert ops_of(g) == ["CONV_2D"]
    assert g.tensor(g.inputs[0]).shape == (1, 9, 7, 4) and g.tensor(g.outputs[0]).shape == (1, 5, 4, 6)
    assert worst <= RTOL


def test_shared_float_model_matches_golden():
    g = load_model(SHARED / "onnx" / "hello_world_float.onnx")
    assert ops_of(g) == ["FULLY_CONNECTED"] * 3  # MatMul + Add (bias) + Relu folded into each
    assert [n.attrs.activation for n in g.nodes] == ["RELU", "RELU", "NONE"]
    golden = np.load(SHARED / "golden" / "hello_world_float.npz")
    y = run_reference(g, [golden["x0"]])[0]
    err = float(np.abs(y.ravel() - golden["y0"].ravel()).max() / np.abs(golden["y0"]).max())
    print(f"hello_world_float: float reference vs golden y0: rel err {err:.2e}")
    assert err <= RTOL
    _, worst = compare(SHARED / "onnx" / "hello_world_float.onnx", n=16)
    print(f"hello_world_float: float reference vs onnxruntime, 16 inputs: max rel err {worst:.2e}")
    assert worst <= RTOL


# ------------------------------------------------------------------ rejections
def _model(nodes, inputs, outputs, inits=(), opset=17) -> onnx.ModelProto:
    return helper.make_model(helper.make_graph(nodes, "g", inputs, outputs, list(inits)),
                             opset_imports=[helper.make_opsetid("", opset)])


def test_dynamic_spatial_dims_are_rejected(tmp_path):
    model = _model([helper.make_node("Relu", ["img"], ["y"], "relu")],
                   [helper.make_tensor_value_info("img", TensorProto.FLOAT, ["N", 3, "H", "W"])],
                   [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3, "H", "W"])])
    onnx.save(model, tmp_path / "m.onnx")
    with pytest.raises(UnsupportedModelError, match="input 'img' has dynamic dimensions"):
        load_model(tmp_path / "m.onnx")


def test_unsupported_float_ops_listed_in_one_error(tmp_path):
    class Bad(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln, self.fc = nn.LayerNorm(8), nn.Linear(8, 8)

        def forward(self, x):
            return torch.topk(F.gelu(self.fc(self.ln(x))), 3).values

    path = export(Bad(), (1, 8), tmp_path / "m.onnx", "legacy")
    expected = [(n.name, n.op_type) for n in onnx.load(path).graph.node
                if n.op_type in ("LayerNormalization", "Erf", "Gelu", "TopK", "Div")]
    with pytest.raises(UnsupportedModelError) as err:
        load_model(path)
    msg = str(err.value)
    print(msg)
    assert "unsupported ONNX node" in msg
    for name, op in expected:
        if op != "Div":
            assert f"'{name}' ({op})" in msg
    assert "Gemm" not in msg and "MatMul" not in msg


@pytest.mark.parametrize(
    "nodes,inits,match",
    [
        ([helper.make_node("Clip", ["x", "lo", "hi"], ["y"], "clip3")],
         [np.array(0, np.float32), np.array(3, np.float32)], r"'clip3' \(Clip\): Clip\(0, 3\) is none of"),
        ([helper.make_node("MaxPool", ["x"], ["y"], "mp", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])],
         [], r"'mp' \(MaxPool\).*only after a ReLU"),
        ([helper.make_node("Flatten", ["x"], ["y"], "flat")], [], r"graph output 'y'.*no TRANSPOSE"),
        ([helper.make_node("Sub", ["x", "x"], ["y"], "sub")], [], r"'sub' \(Sub\): Sub of two activations"),
    ],
    ids=["clip-0-3", "maxpool-pads-negative-input", "flatten-output", "sub-two-activations"],
)
def test_clear_rejections(tmp_path, nodes, inits, match):
    names = ["lo", "hi"]
    inits = [numpy_helper.from_array(v, names[i]) for i, v in enumerate(inits)]
    conv = helper.make_node("Conv", ["x0", "w"], ["x"], "conv", kernel_shape=[1, 1])  # x is a real NCHW feature map
    inits.append(numpy_helper.from_array(np.ones((4, 2, 1, 1), np.float32), "w"))
    model = _model([conv] + nodes, [helper.make_tensor_value_info("x0", TensorProto.FLOAT, [1, 2, 6, 6])],
                   [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    onnx.save(model, tmp_path / "m.onnx")
    with pytest.raises(UnsupportedModelError, match=match):
        load_model(tmp_path / "m.onnx")
