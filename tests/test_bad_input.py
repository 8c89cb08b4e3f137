"""Bad input to the public entry points of gdlutils (the modules outside the message-passing
core): each case asserts the exception type and the key words of its message, so that an error
says what was expected, what was given and, where there is one, how to fix it.

The graph and message-passing modules have their own module, ``tests/test_bad_input_graphs.py``.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gdlutils import blueprint, deformations, gconv, grids, groups, learning, mesh, models, multiscale, sphere
from gdlutils import data, plot, plot_mesh, utils
from gdlutils.exercises import check

V_ICO, F_ICO = mesh.icosphere(1)
QUADS = np.array([[0, 1, 2, 3]])


def _unwelded():
    V, F = V_ICO, F_ICO.copy()
    V2 = np.vstack([V, V[F[0, 0]]])
    F[0, 0] = len(V)
    return V2, F


def _unreferenced():
    V2 = np.vstack([V_ICO, [[3.0, 0.0, 0.0]]])
    return mesh.laplacian_and_mass(V2, F_ICO)


S3 = groups.SymmetricGroup(3)
D4 = groups.DihedralGroup(4)
P4 = groups.P4Group(4)

CASES = [
    # ---- groups: constructors
    ("CyclicGroup(0)", lambda: groups.CyclicGroup(0), ValueError, "positive integer"),
    ("CyclicGroup(2.5)", lambda: groups.CyclicGroup(2.5), TypeError, "positive integer"),
    ("DihedralGroup('4')", lambda: groups.DihedralGroup("4"), TypeError, "positive integer"),
    ("SymmetricGroup(-1)", lambda: groups.SymmetricGroup(-1), ValueError, "positive integer"),
    ("P4Group(0)", lambda: groups.P4Group(0), ValueError, "size"),
    ("P4Group(mirror='yes')", lambda: groups.P4Group(4, mirror="yes"), TypeError, "mirror"),
    ("TranslationGroup2D(3, 0)", lambda: groups.TranslationGroup2D(3, 0), ValueError, "width"),
    ("PermutationGroup([])", lambda: groups.PermutationGroup([]), ValueError, "at least the identity"),
    ("PermutationGroup non-permutation", lambda: groups.PermutationGroup([torch.tensor([0, 0, 1])]), ValueError, "permutation of 0..2"),
    ("S3.sample(0)", lambda: S3.sample(0), ValueError, "positive integer"),
    ("S9.elements()", lambda: groups.SymmetricGroup(9).elements(), ValueError, "too many to list"),
    # ---- groups: permutations (left action P[pi(u), u] = 1)
    ("permute_adjacency non-square", lambda: S3.permute_adjacency(torch.arange(3), torch.zeros(3, 4)), ValueError, "square"),
    ("permute_adjacency non-permutation", lambda: S3.permute_adjacency(torch.tensor([0, 0, 1]), torch.zeros(3, 3)), ValueError, "each index exactly once"),
    ("permute_adjacency wrong length", lambda: S3.permute_adjacency(torch.arange(4), torch.zeros(3, 3)), ValueError, "shape (3,)"),
    ("permute_rows float perm", lambda: S3.permute_rows(torch.tensor([0.0, 1.0, 2.0]), torch.zeros(3)), TypeError, "integer dtype"),
    ("permute_rows scalar x", lambda: S3.permute_rows(torch.arange(3), torch.tensor(1.0)), ValueError, "(n, ...)"),
    ("permute_graph rows mismatch", lambda: S3.permute_graph(torch.arange(3), (torch.zeros(4, 2), torch.zeros(3, 3))), ValueError, "one row per node"),
    ("permute_graph not a pair", lambda: S3.permute_graph(torch.arange(3), torch.zeros(3, 3)), TypeError, "(x, adjacency)"),
    ("permutation_matrix repeated", lambda: groups.permutation_matrix([0, 0, 1]), ValueError, "permutation of 0..2"),
    ("permutation_matrix 2-D", lambda: groups.permutation_matrix(torch.zeros(2, 2, dtype=torch.long)), ValueError, "shape"),
    ("permutation_matrix string", lambda: groups.permutation_matrix("012"), TypeError, "integer tensor"),
    # ---- groups: elements, actions, representations
    ("DihedralGroup element not a pair", lambda: D4.compose(1, (0, 0)), TypeError, "pair (r, m)"),
    ("DihedralGroup m = 2", lambda: D4.compose((0, 2), (0, 0)), ValueError, "m in {0, 1}"),
    ("rotate_image numpy", lambda: groups.rotate_image(1, np.zeros((3, 3))), TypeError, "torch.Tensor"),
    ("rotate_image half turn", lambda: groups.rotate_image(0.5, torch.zeros(3, 3)), TypeError, "quarter turns"),
    ("act_on_image 1-D", lambda: groups.act_on_image((1, 0), torch.zeros(3)), ValueError, "(..., H, W)"),
    ("translate_image scalar g", lambda: groups.translate_image(1, torch.zeros(3, 3)), TypeError, "pair (dy, dx)"),
    ("P4Group.act non-square", lambda: P4.act((1, 0, 0), torch.zeros(4, 5)), ValueError, "H == W"),
    ("P4Group.act wrong size", lambda: P4.act((1, 0, 0), torch.zeros(5, 5)), ValueError, "4x4 images"),
    ("p4 element of 4 entries", lambda: groups.p4_element((1, 0, 0, 0), mirror=False), ValueError, "p4 element"),
    ("p4m element with m = 3", lambda: groups.p4_element((1, 3), mirror=True), ValueError, "m in {0, 1}"),
    ("p4 element float", lambda: groups.p4_element((1.5, 0, 0)), TypeError, "integer entries"),
    ("SO3.compose wrong shape", lambda: groups.SO3().compose(torch.eye(2), torch.eye(3)), ValueError, "(..., 3, 3)"),
    ("quaternion_to_matrix (3,)", lambda: groups.quaternion_to_matrix(torch.ones(3)), ValueError, "(..., 4)"),
    ("rotate_points wrong dim", lambda: groups.rotate_points(torch.eye(3), torch.zeros(5, 2)), ValueError, "(..., N, 3)"),
    ("regular_action wrong size", lambda: groups.regular_action(D4)((1, 0), torch.zeros(2, 5)), ValueError, "8 entries"),
    ("regular_action not an element", lambda: groups.regular_action(D4)((9, 9), torch.zeros(8)), ValueError, "not an element"),
    ("regular_action dim float", lambda: groups.regular_action(D4, dim=0.0), TypeError, "integer axis"),
    ("regular_action of a list", lambda: groups.regular_action([1, 2]), TypeError, "finite group"),
    ("resolve_group unknown name", lambda: groups.resolve_group("Q8"), ValueError, "'C4', 'D4'"),
    ("check_equivariance no elements", lambda: groups.check_equivariance(lambda x: x, 3, torch.zeros(3), lambda g, x: x), TypeError, "samples=N"),
    ("cyclic_irrep bad n", lambda: groups.cyclic_irrep(0, 1), ValueError, "positive integer n"),
    ("dft_matrix bad n", lambda: groups.dft_matrix(0), ValueError, "positive integer n"),
    ("automorphism_group directed", lambda: groups.automorphism_group(torch.tensor([[0, 1], [0, 0]])), ValueError, "symmetric"),
    # ---- gconv and group convolutions
    ("gconv unknown group", lambda: gconv.LiftingConv2d(1, 2, 3, group="p6"), ValueError, "P4Group"),
    ("gconv CyclicGroup(3)", lambda: gconv.GroupConv2d(1, 2, 3, group=groups.CyclicGroup(3)), ValueError, "CyclicGroup(4)"),
    ("gconv even kernel", lambda: gconv.LiftingConv2d(1, 2, 4), ValueError, "odd"),
    ("act_on_group_map int for p4m", lambda: gconv.act_on_group_map(1, torch.zeros(1, 1, 8, 5, 5), "p4m"), TypeError, "p4m element"),
    ("act_on_group_map wrong |H|", lambda: gconv.act_on_group_map((1, 0), torch.zeros(1, 1, 4, 5, 5), groups.P4Group(5, mirror=True)), ValueError, "(..., 8, H, W)"),
    ("GroupPool reduction word", lambda: gconv.GroupPool("avg"), ValueError, "reduce must be 'max' or 'mean'"),
    ("GroupSpatialPool2d avg", lambda: gconv.GroupSpatialPool2d(2, "avg"), ValueError, "reduce must be 'max' or 'mean'"),
    ("GroupSpatialPool2d odd size", lambda: gconv.GroupSpatialPool2d(2)(torch.zeros(1, 1, 4, 7, 7)), ValueError, "divisible"),
    ("GroupPool 4-D input", lambda: gconv.GroupPool()(torch.zeros(2, 3, 5, 5)), ValueError, "group feature maps"),
    ("blueprint.GroupConv bad name", lambda: blueprint.GroupConv("Z4", 1, 1), ValueError, "'C4', 'D4'"),
    ("blueprint.GroupConv zero channels", lambda: blueprint.GroupConv("D4", 0, 1), ValueError, "in_channels"),
    ("blueprint.GroupConv wrong input", lambda: blueprint.GroupConv(D4, 2, 3)(torch.zeros(1, 2, 4)), ValueError, "(B, 2, 8)"),
    ("LocalPool mode word", lambda: blueprint.LocalPool(2, reduce="avg"), ValueError, "reduce must be 'mean' or 'max'"),
    ("GlobalPool median", lambda: blueprint.GlobalPool(reduce="median"), ValueError, "reduce must be"),
    ("GlobalPool missing dims", lambda: blueprint.GlobalPool((-3,))(torch.zeros(4, 2)), ValueError, "dims"),
    ("CyclicConv wrong channels", lambda: blueprint.CyclicConv(2, 3)(torch.zeros(1, 1, 8)), ValueError, "(B, 2, n)"),
    ("CyclicConv even kernel", lambda: blueprint.CyclicConv(2, 3, 4), ValueError, "odd"),
    ("MLP in_channels 0", lambda: models.MLP(0), ValueError, "in_channels"),
    ("MLP wrong input size", lambda: models.MLP(64)(torch.zeros(3, 1, 9, 9)), ValueError, "64 input entries"),
    ("GCNN unknown group", lambda: models.GCNN(group="p3"), ValueError, "group must be one of"),
    ("CNN wrong channels", lambda: models.CNN()(torch.zeros(3, 2, 8, 8)), ValueError, "(B, 1, H, W)"),
    # ---- sphere
    ("sampled_sphere(-1)", lambda: sphere.sampled_sphere(-1), ValueError, "[0, 6]"),
    ("sampled_sphere(1.5)", lambda: sphere.sampled_sphere(1.5), ValueError, "integer"),
    ("group_conv wrong rows", lambda: sphere.group_conv(torch.zeros(5), torch.zeros(60), sphere.icosahedral_group()), ValueError, "one row per group element"),
    ("project reduce word", lambda: sphere.project(torch.zeros(60), sphere.GroupAction(sphere.icosahedral_group(), sphere.sampled_sphere(0)[0]), reduce="sum"), ValueError, "reduce must be"),
    # ---- mesh: arrays
    ("Mesh vertices (n, 2)", lambda: mesh.Mesh(np.zeros((3, 2)), [[0, 1, 2]]), mesh.MeshError, "shape (n, 3)"),
    ("Mesh NaN vertex", lambda: mesh.Mesh(np.full((3, 3), np.nan), [[0, 1, 2]]), mesh.MeshError, "finite"),
    ("Mesh index out of range", lambda: mesh.Mesh(V_ICO, F_ICO + 1), mesh.MeshError, "must lie in"),
    ("Mesh fractional index", lambda: mesh.Mesh(V_ICO, F_ICO + 0.5), mesh.MeshError, "integer vertex indices"),
    ("Mesh repeated vertex in face", lambda: mesh.Mesh(V_ICO, np.array([[0, 0, 1]])), mesh.MeshError, "repeat a vertex"),
    ("Mesh no faces", lambda: mesh.Mesh(V_ICO, np.zeros((0, 3), int)), mesh.MeshError, "no faces"),
    ("Mesh unwelded coincident vertices", lambda: mesh.Mesh(*_unwelded()), mesh.MeshError, "merge_vertices"),
    ("edges of quads", lambda: mesh.edges(QUADS), mesh.MeshError, "triangulate_quads"),
    ("boundary_edges of quads", lambda: mesh.boundary_edges(QUADS), mesh.MeshError, "triangles only"),
    ("face_adjacency with -1", lambda: mesh.face_adjacency(np.array([[0, 1, 2], [2, 1, -1]])), mesh.MeshError, "-1 used as padding"),
    ("euler_characteristic num_vertices too small", lambda: mesh.euler_characteristic(F_ICO, num_vertices=3), mesh.MeshError, "must lie in"),
    ("face_normals degenerate face", lambda: mesh.face_normals(np.array([[0, 0, 0], [1, 0, 0], [2, 0, 0.0]]), [[0, 1, 2]]), mesh.MeshError, "zero area"),
    # ---- mesh: operators and parameters
    ("mass_matrix(kind=)", lambda: mesh.mass_matrix(V_ICO, F_ICO, kind="voronoi"), TypeError, "kind"),
    ("mass_matrix unknown mass", lambda: mesh.mass_matrix(V_ICO, F_ICO, mass="lumped"), ValueError, "'barycentric', 'voronoi' or 'full'"),
    ("laplacian_and_mass unknown mass", lambda: mesh.laplacian_and_mass(V_ICO, F_ICO, mass="cotan"), ValueError, "mass must be"),
    ("laplacian_eigs unreferenced vertex", lambda: mesh.laplacian_eigs(*_unreferenced(), k=4), mesh.MeshError, "remove_unreferenced_vertices"),
    ("laplacian_eigs k too large", lambda: mesh.laplacian_eigs(*mesh.laplacian_and_mass(V_ICO, F_ICO), k=41), ValueError, "k must be in"),
    ("laplacian_eigs k float", lambda: mesh.laplacian_eigs(*mesh.laplacian_and_mass(V_ICO, F_ICO), k=2.0), TypeError, "integer"),
    ("laplacian_eigs size mismatch", lambda: mesh.laplacian_eigs(mesh.cotangent_laplacian(V_ICO, F_ICO), np.eye(3), k=2), ValueError, "same size"),
    ("heat_diffusion nan t", lambda: mesh.heat_diffusion(*mesh.laplacian_and_mass(V_ICO, F_ICO), np.ones(42), float("nan")), ValueError, "finite"),
    ("heat_diffusion wrong u0", lambda: mesh.heat_diffusion(*mesh.laplacian_and_mass(V_ICO, F_ICO), np.ones(41), 0.1), ValueError, "one row per vertex"),
    ("heat_diffusion unreferenced", lambda: mesh.heat_diffusion(*_unreferenced(), np.ones(43), 0.1), mesh.MeshError, "belong to no face"),
    ("heat_kernel mismatched eigenpairs", lambda: mesh.heat_kernel(np.ones(3), np.ones((10, 4)), 0.1), ValueError, "evecs (n, k)"),
    ("heat_kernel negative t", lambda: mesh.heat_kernel(np.ones(3), np.ones((10, 3)), -1.0), ValueError, "non-negative"),
    ("heat_kernel_signature nan time", lambda: mesh.heat_kernel_signature(np.ones(3), np.ones((10, 3)), [0.1, np.nan]), ValueError, "finite non-negative"),
    ("gradient wrong u", lambda: mesh.gradient(V_ICO, F_ICO, np.ones(5)), ValueError, "one value per vertex"),
    ("gradient nan u", lambda: mesh.gradient(V_ICO, F_ICO, np.full(42, np.nan)), ValueError, "finite"),
    ("divergence wrong X", lambda: mesh.divergence(V_ICO, F_ICO, np.ones((80, 2))), ValueError, "one 3-vector per face"),
    ("heat_geodesic_distance bad source", lambda: mesh.heat_geodesic_distance(V_ICO, F_ICO, 42), ValueError, "vertex indices in [0, 41]"),
    ("heat_geodesic_distance float source", lambda: mesh.heat_geodesic_distance(V_ICO, F_ICO, 1.5), TypeError, "integer vertex indices"),
    ("HeatMethodGeodesics t = 0", lambda: mesh.HeatMethodGeodesics(V_ICO, F_ICO, t=0.0), ValueError, "positive"),
    ("mean_curvature unreferenced", lambda: mesh.mean_curvature(np.vstack([V_ICO, [[3.0, 0, 0]]]), F_ICO), mesh.MeshError, "belong to no face"),
    ("icosphere negative", lambda: mesh.icosphere(-1), ValueError, "subdivisions"),
    ("icosphere radius nan", lambda: mesh.icosphere(1, radius=float("nan")), ValueError, "finite positive"),
    ("random_sphere 3 points", lambda: mesh.random_sphere(3), ValueError, ">= 4"),
    ("random_sphere seed Generator", lambda: mesh.random_sphere(10, seed=np.random.default_rng(0)), TypeError, "seed must be an integer"),
    ("torus minor > major", lambda: mesh.torus(1.0, 2.0), ValueError, "major > minor"),
    ("flat_sheet 1 x 5", lambda: mesh.flat_sheet(1, 5), ValueError, "nx"),
    ("roll_sheet of arrays", lambda: mesh.roll_sheet(V_ICO), TypeError, "expects a Mesh"),
    ("roll_sheet curved input", lambda: mesh.roll_sheet(mesh.icosphere(1)), ValueError, "flat sheet"),
    ("holonomy loop of one face", lambda: mesh.holonomy(V_ICO, F_ICO, [0]), ValueError, "at least 2 face indices"),
    ("holonomy non-adjacent faces", lambda: mesh.holonomy(V_ICO, F_ICO, [0, 79]), ValueError, "not adjacent"),
    ("transport_along nan angle", lambda: mesh.transport_along(V_ICO, F_ICO, [0], angle=float("nan")), ValueError, "finite"),
    ("face_loop_around negative vertex", lambda: mesh.face_loop_around(F_ICO, [-1]), ValueError, "vertex indices"),
    ("vertex_ring out of range", lambda: mesh.vertex_ring(F_ICO, 100), ValueError, "[0, 41]"),
    ("vertex_holonomy 2-cycle", lambda: mesh.vertex_holonomy(V_ICO, F_ICO, [0, 1]), ValueError, "at least 3 vertices"),
    ("load_mesh unknown", lambda: mesh.load_mesh("no-such-mesh"), FileNotFoundError, "neither a known mesh"),
    ("plot_mesh wrong values", lambda: plot_mesh.plot_mesh(V_ICO, F_ICO, np.ones(5)), ValueError, "one scalar per vertex"),
    ("mesh_figure bad up", lambda: plot_mesh.mesh_figure(V_ICO, F_ICO, up="w"), ValueError, "'x', 'y' or 'z'"),
    ("plot_mesh_grid lengths", lambda: plot_mesh.plot_mesh_grid([(V_ICO, F_ICO)], [None, None], ["a"]), ValueError, "same length"),
    # ---- grids, multiscale, deformations
    ("shift_matrix(0)", lambda: grids.shift_matrix(0), ValueError, "positive integer"),
    ("fourier_basis('8')", lambda: grids.fourier_basis("8"), TypeError, "positive integer"),
    ("shift numpy", lambda: grids.shift(np.zeros(4)), TypeError, "torch.Tensor"),
    ("shift dims out of range", lambda: grids.shift(torch.zeros(4), 1, dims=2), ValueError, "out of range"),
    ("circulant 2-D filter", lambda: grids.circulant(torch.zeros(2, 2)), ValueError, "1-D filter"),
    ("pad_kernel too large", lambda: grids.pad_kernel(torch.zeros(5), 3), ValueError, "larger than the grid"),
    ("conv1d_fft filter larger than grid", lambda: grids.conv1d_fft(torch.zeros(3), torch.zeros(5)), ValueError, "larger than the grid"),
    ("conv2d_matrix size", lambda: grids.conv2d_matrix(torch.zeros(2, 2), 4), ValueError, "pair (H, W)"),
    ("local_pool mode word", lambda: multiscale.local_pool(torch.zeros(8), 2, reduce="avg"), ValueError, "reduce must be 'mean' or 'max'"),
    ("local_pool indivisible", lambda: multiscale.local_pool(torch.zeros(7), 2), ValueError, "divisible"),
    ("local_pool factor float", lambda: multiscale.local_pool(torch.zeros(8), 2.0), ValueError, "positive integer"),
    ("haar_step odd length", lambda: multiscale.haar_step(torch.zeros(7)), ValueError, "even"),
    ("coarsen_graph directed", lambda: multiscale.coarsen_graph(torch.tensor([[0.0, 1.0], [0.0, 0.0]])), ValueError, "symmetric"),
    ("coarsen_graph negative levels", lambda: multiscale.coarsen_graph(torch.zeros(2, 2), -1), ValueError, "levels"),
    ("pool_graph_signal unknown reduce", lambda: multiscale.pool_graph_signal(torch.zeros(4, 2), [0, 0, 1, 1], reduce="median"), ValueError, "reduce must be"),
    ("pool_graph_signal wrong labels", lambda: multiscale.pool_graph_signal(torch.zeros(4, 2), [0, 1]), ValueError, "shape (4,)"),
    ("smooth_displacement(size=nan)", lambda: deformations.smooth_displacement(32, float("nan")), ValueError, "finite"),
    ("smooth_displacement(size=-1)", lambda: deformations.smooth_displacement(32, -1.0), ValueError, ">= 0"),
    ("smooth_displacement 3-D grid", lambda: deformations.smooth_displacement((4, 4, 4), 0.1), ValueError, "(H, W) grid"),
    ("smooth_displacement max_freq 0", lambda: deformations.smooth_displacement(32, 0.1, max_freq=0), ValueError, "max_freq"),
    ("warp_signal wrong tau", lambda: deformations.warp_signal(torch.zeros(8), torch.zeros(4)), ValueError, "shape (8,)"),
    ("warp_signal nan tau", lambda: deformations.warp_signal(torch.zeros(8), torch.full((8,), float("nan"))), ValueError, "finite"),
    ("warp_image 1-D", lambda: deformations.warp_image(torch.zeros(8), torch.zeros(2, 8, 8)), ValueError, "(..., H, W)"),
    ("warp_signal interpolation", lambda: deformations.warp_signal(torch.zeros(8), torch.zeros(8), "cubic"), ValueError, "'fourier' or 'linear'"),
    ("perturb_edges weighted", lambda: deformations.perturb_edges(torch.full((3, 3), 0.5), 1), ValueError, "symmetric 0/1"),
    ("perturb_edges too many", lambda: deformations.perturb_edges(torch.zeros(3, 3), 4), ValueError, "num_flips"),
    ("gaussian_lowpass nan sigma", lambda: deformations.gaussian_lowpass(16, float("nan")), ValueError, "finite"),
    ("fourier_modulus ndim 3", lambda: deformations.fourier_modulus(torch.zeros(4, 4), ndim=3), ValueError, "ndim"),
    # ---- learning, plot, data, utils, exercises
    ("sample_cube seed Generator", lambda: learning.sample_cube(5, 2, np.random.default_rng(0)), TypeError, "not a Generator"),
    ("sample_cube n = 0", lambda: learning.sample_cube(0, 2), ValueError, "n (number of points)"),
    ("RandomSmoothFunction subspace > d", lambda: learning.RandomSmoothFunction(2, subspace_dim=3), ValueError, "subspace_dim"),
    ("RandomSmoothFunction wrong points", lambda: learning.RandomSmoothFunction(2)(np.zeros((4, 3))), ValueError, "(n, 2)"),
    ("knn_regression_error k > n", lambda: learning.knn_regression_error(learning.RandomSmoothFunction(2), 2, 3, k=5), ValueError, "k = 5"),
    ("loglog_slope non-positive", lambda: learning.loglog_slope([1, 2], [0, 1]), ValueError, "positive"),
    ("loglog_curves length", lambda: plot.loglog_curves([1, 2, 3], {"a": [1, 2]}), ValueError, "like x"),
    ("fetch unregistered", lambda: data.fetch("meshes/nothing.obj"), KeyError, "not a registered data file"),
    ("fetch non-string", lambda: data.fetch(3), TypeError, "registry key"),
    ("load_planetoid unknown", lambda: data.load_planetoid("PubMedX"), ValueError, "Cora"),
    ("seed_everything float", lambda: utils.seed_everything(1.5), TypeError, "non-negative int"),
    ("get_device nonsense", lambda: utils.get_device("gpu7"), ValueError, "device name"),
    ("reset_submodules non-module", lambda: utils.reset_submodules(3), TypeError, "torch.nn.Module"),
    ("check(311, f)", lambda: check(311, None), TypeError, 'check("311", ...)'),
    ("check malformed id", lambda: check("3.x", None), ValueError, "chapter.section.number"),
    ("check unknown id", lambda: check("9.9.9", None), ValueError, "no exercise '9.9.9'"),
    ("check quiet not bool", lambda: check("3.1.1", None, quiet="yes"), TypeError, "quiet"),
]


@pytest.mark.parametrize("call, exc, words", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_raises_a_clear_error(call, exc, words):
    with pytest.raises(exc) as info:
        call()
    message = str(info.value)
    assert words.lower() in message.lower(), f"message {message!r} lacks {words!r}"


def test_there_are_enough_cases_and_ids_are_unique():
    ids = [c[0] for c in CASES]
    assert len(ids) == len(set(ids)) and len(ids) >= 70
