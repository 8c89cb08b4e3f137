"""The interactive plotly figures with a slider (gdlutils.plot, gdlutils.plot_mesh): each has one
frame and one slider step per position, the traces it documents, frame k holds what it should,
and the figure stays small enough for a web page."""
import json

import networkx as nx
import numpy as np
import pytest
import torch

from gdlutils import mesh as gm
from gdlutils.graphs import from_networkx
from gdlutils.groups import rotate_image
from gdlutils.models import CNN, P4CNN
from gdlutils.plot import _rotate_image_by, oversmoothing_figure, rotated_digit_figure
from gdlutils.plot_mesh import gauge_figure, heat_diffusion_figure, mesh_figure, mesh_grid_figure, plot_mesh_grid

MAX_BYTES = 2_000_000  # a figure's JSON, plotly.js itself not included (embedded once per page)


def _array(a):
    """A plotly data array as NumPy, whether stored as a list or as base64 typed data."""
    if isinstance(a, dict) and "bdata" in a:
        import base64

        return np.frombuffer(base64.b64decode(a["bdata"]), dtype=np.dtype(a["dtype"])).reshape(
            [int(d) for d in str(a.get("shape", "-1")).split(",")])
    return np.asarray(a)


def _check_slider(fig, n):
    assert len(fig.frames) == n
    steps = fig.layout.sliders[0].steps
    assert len(steps) == n
    assert [s.args[0][0] for s in steps] == [f.name for f in fig.frames]  # step k shows frame k
    assert all(s.method == "animate" and s.args[1]["frame"]["redraw"] for s in steps)
    size = len(fig.to_json())
    assert size < MAX_BYTES, f"figure JSON is {size / 1e6:.2f} MB"
    return json.loads(fig.to_json())


@pytest.fixture(scope="module")
def spot():
    V, F = gm.load_mesh("spot")
    L, M = gm.laplacian_and_mass(V, F)
    return V, F, L, M


def test_continuous_rotation_matches_quarter_turns_and_turns_counter_clockwise():
    x = torch.rand(3, 1, 8, 8, dtype=torch.float64)
    for r in range(4):
        assert torch.equal(_rotate_image_by(x, 90 * r), rotate_image(r, x))
    # just off the quarter turn, the bilinear rotation is close to it (so it turns the same way)
    assert (_rotate_image_by(x, 90.01) - rotate_image(1, x)).abs().max() < 5e-3
    assert (_rotate_image_by(x, -89.99) - rotate_image(1, x)).abs().max() > 0.05


def test_rotated_digit_figure():
    torch.manual_seed(0)
    gcnn, cnn = P4CNN(1, 10, channels=(4, 8)).double().eval(), CNN(1, 10, channels=(8, 16)).double().eval()
    image = torch.rand(8, 8, dtype=torch.float64)
    angles = list(range(0, 361, 30))
    fig = rotated_digit_figure(image, gcnn, cnn, angles=angles)
    data = _check_slider(fig, len(angles))
    assert len(fig.data) == 9
    k = angles.index(90)
    frame = data["frames"][k]
    assert frame["traces"] == [0, 1, 2, 3, 4, 8]
    expected = rotate_image(1, image)
    assert np.allclose(_array(frame["data"][0]["z"]), expected.numpy())
    with torch.no_grad():
        lifted = gcnn.features[0](expected[None, None])[0, 0].numpy()
    for h in range(4):
        assert np.allclose(_array(frame["data"][1 + h]["z"]), lifted[h])
    delta_g, delta_c = _array(data["data"][5]["y"]), _array(data["data"][6]["y"])
    quarter = [i for i, a in enumerate(angles) if a % 90 == 0]
    between = [i for i, a in enumerate(angles) if a % 90]
    assert np.abs(delta_g[quarter]).max() < 1e-12  # exact invariance at the quarter turns
    assert delta_g[between].min() > 1e-6  # only approximate in between
    assert delta_c[[angles.index(90), angles.index(180)]].min() > 1e-3  # the plain CNN changes
    assert _array(data["data"][7]["x"]).tolist() == [0, 90, 180, 270, 360]  # the marks
    assert _array(frame["data"][5]["x"]).tolist() == [90, 90]  # the current angle
    # readable at phone width (checked by screenshots at 390 and 1280 px): no fixed width, short panel
    # titles, and the legend in the gap between the image row and the curves rather than over either
    layout = fig.layout
    assert layout.width is None and layout.autosize
    assert max(len(a.text) for a in layout.annotations if a.text.startswith("h = ")) <= 8
    assert layout.yaxis6.domain[1] <= layout.legend.y < layout.yaxis.domain[0]


def test_rotated_digit_figure_rejects_bad_input():
    gcnn, cnn = P4CNN(1, 10, channels=(4, 8)).eval(), CNN(1, 10, channels=(8,)).eval()
    with pytest.raises(ValueError, match="square"):
        rotated_digit_figure(torch.rand(8, 6), gcnn, cnn)
    with pytest.raises(ValueError, match="increase from 0"):
        rotated_digit_figure(torch.rand(8, 8), gcnn, cnn, angles=[10, 20])
    with pytest.raises(TypeError, match="p4"):
        rotated_digit_figure(torch.rand(8, 8), cnn, cnn)


def test_oversmoothing_figure():
    edge_index, _, n = from_networkx(nx.karate_club_graph(), weight=None)
    x = torch.randn(n, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    fig = oversmoothing_figure(edge_index, x, num_layers=12)
    data = _check_slider(fig, 13)
    assert len(fig.data) == 4
    A = nx.to_numpy_array(nx.karate_club_graph(), nodelist=range(n), weight=None) + np.eye(n)
    P = A / A.sum(1, keepdims=True)
    for k in (0, 1, 7):
        frame = data["frames"][k]
        assert frame["traces"] == [1, 3]
        assert np.allclose(_array(frame["data"][0]["marker"]["color"]), np.linalg.matrix_power(P, k) @ x.numpy())
    energy = _array(data["data"][2]["y"])
    assert np.all(np.diff(energy) < 0) and energy[-1] < 1e-2 * energy[0]  # it over-smooths
    with pytest.raises(ValueError, match="one finite scalar per node"):
        oversmoothing_figure(edge_index, torch.randn(n, 2))


def test_heat_diffusion_figure(spot):
    V, F, L, M = spot
    times = [0.001, 0.01, 0.1]
    fig = heat_diffusion_figure(V, F, L, M, 5, times, steps=10)
    data = _check_slider(fig, 3)
    assert len(fig.data) == 2
    f0 = np.zeros(len(V))
    f0[5] = 1 / M.diagonal()[5]
    for k, t in enumerate(times):
        frame = data["frames"][k]
        assert frame["traces"] == [0]
        expected = np.log10(np.maximum(gm.heat_diffusion(L, M, f0, t, steps=10), 0) + 1e-3)
        assert np.allclose(_array(frame["data"][0]["intensity"]), expected, atol=1e-5)
    assert data["data"][0]["showscale"] and "heat" in data["data"][0]["colorbar"]["title"]["text"]
    with pytest.raises(ValueError, match="increasing"):
        heat_diffusion_figure(V, F, L, M, 5, [0.1, 0.01])
    with pytest.raises(ValueError, match="vertex index"):
        heat_diffusion_figure(V, F, L, M, len(V), [0.1])


def test_gauge_figure_field_stays_coefficients_turn(spot):
    V, F, _, _ = spot
    e1, e2, n = gm.vertex_tangent_frames(V, F, reference=[0.0, 0.0, 1.0])
    up = np.array([0.0, 1.0, 0.0])
    X = up - (n @ up)[:, None] * n
    points = np.arange(0, len(V), 50)
    angles = [0, 90, 180]
    fig = gauge_figure(V, F, X, e1, e2, angles=angles, points=points)
    data = _check_slider(fig, 3)
    assert len(fig.data) == 5 and fig.data[2].type == "cone" and fig.data[4].type == "cone"
    c1, c2 = (X * e1).sum(1), (X * e2).sum(1)
    c = [_array(data["frames"][k]["data"][0]["intensity"]) for k in range(3)]
    assert np.allclose(c[0], c1, atol=1e-6) and np.allclose(c[1], c2, atol=1e-6) and np.allclose(c[2], -c1, atol=1e-6)
    # the red arrow at 90 degrees is e2; the field's arrows are no part of any frame
    tips = _array(data["frames"][1]["data"][2]["u"])
    assert np.allclose(tips, 0.04 * e2[points, 0] / 3, atol=1e-6)
    assert all(f["traces"] == [0, 3, 4] for f in data["frames"])
    with pytest.raises(ValueError, match="field must be finite"):
        gauge_figure(V, F, X[:10], e1, e2)


def test_vector_fields_have_arrowheads_and_colour_maps_have_colour_bars(spot):
    V, F, _, _ = spot
    fig = mesh_figure(V[:, :], F, V[:, 0], vectors=[(V[:5], V[:5], "red")])
    assert [t.type for t in fig.data] == ["mesh3d", "scatter3d", "cone"]
    assert fig.data[0].showscale
    grid = mesh_grid_figure([(V, F)] * 2, [V[:, 0], None], ["a", "b"])
    assert grid.data[0].showscale and not grid.data[1].showscale
    import matplotlib.pyplot as plt

    mpl = plot_mesh_grid([(V, F)] * 2, [V[:, 0], V[:, 1]], ["a", "b"])
    assert len(mpl.axes) == 4  # two meshes, two colour bars
    plt.close(mpl)
