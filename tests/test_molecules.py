"""gdlutils.molecules: featurisation against RDKit's own counts, permutation conventions,
invariance of the regressor to atom renumbering, the ESOL file, baselines, bad input, and the
lazy import of RDKit."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

pytest.importorskip("rdkit")
from rdkit import Chem  # noqa: E402
from rdkit.Chem import Crippen  # noqa: E402

from gdlutils import molecules as M  # noqa: E402
from gdlutils.graphs import graph_action, permute_graph  # noqa: E402
from gdlutils.groups import SymmetricGroup, check_invariance  # noqa: E402

# offsets of the one-hot blocks of atom_features
EL, DEG, CHG, HS, HYB = 0, 10, 17, 21, 27  # then the aromatic (33) and ring (34) flags


def block(x, start, size):
    return x[:, start:start + size]


def test_feature_sizes():
    assert M.NUM_ATOM_FEATURES == 10 + 7 + 4 + 6 + 6 + 2 == 35
    assert M.NUM_BOND_FEATURES == 6
    assert len(M.atom_features(Chem.MolFromSmiles("C").GetAtomWithIdx(0))) == M.NUM_ATOM_FEATURES


def test_benzene():
    x, ei, ea = M.smiles_to_graph("c1ccccc1")
    assert x.shape == (6, M.NUM_ATOM_FEATURES) and ei.shape == (2, 12) and ea.shape == (12, M.NUM_BOND_FEATURES)
    assert (block(x, EL, 10)[:, 0] == 1).all()  # all carbon
    assert (block(x, DEG, 7)[:, 2] == 1).all()  # two heavy neighbours each
    assert (block(x, HS, 6)[:, 1] == 1).all()  # one hydrogen each
    assert (block(x, HYB, 6)[:, 1] == 1).all()  # SP2
    assert (x[:, -2] == 1).all() and (x[:, -1] == 1).all()  # aromatic, in a ring
    assert (ea[:, 3] == 1).all() and (ea[:, 4] == 1).all() and (ea[:, 5] == 1).all()  # aromatic, conjugated, ring
    # every atom receives exactly two messages; both directions of every bond are listed
    assert torch.bincount(ei[1], minlength=6).tolist() == [2] * 6
    assert {tuple(e) for e in ei.t().tolist()} == {(j, i) for i, j in ei.t().tolist()}
    # every row is a concatenation of one-hots: exactly one 1 per block
    for start, size in [(EL, 10), (DEG, 7), (CHG, 4), (HS, 6), (HYB, 6)]:
        assert (block(x, start, size).sum(1) == 1).all()


def test_ethanol():
    x, ei, ea = M.smiles_to_graph("CCO")
    assert x.shape[0] == 3 and ei.shape[1] == 4
    assert block(x, EL, 10).argmax(1).tolist() == [0, 0, 2]  # C, C, O
    assert block(x, HS, 6).argmax(1).tolist() == [3, 2, 1]  # CH3, CH2, OH
    assert block(x, DEG, 7).argmax(1).tolist() == [1, 2, 1]
    assert (block(x, HYB, 6)[:, 2] == 1).all()  # SP3
    assert (x[:, -2:] == 0).all()  # not aromatic, no ring
    assert (ea[:, 0] == 1).all() and (ea[:, 3:] == 0).all()  # single, not conjugated, no ring


def test_charged_atoms_and_other_elements():
    x, _, _ = M.smiles_to_graph("CC(=O)[O-].[Na+]")
    charges = block(x, CHG, 4).argmax(1).tolist()  # slots -1, 0, +1, other
    assert charges == [1, 1, 1, 0, 2]
    assert block(x, EL, 10).argmax(1).tolist()[-1] == 9  # sodium is "other"
    x, _, _ = M.smiles_to_graph("[NH4+]")
    assert block(x, CHG, 4).argmax(1).item() == 2 and block(x, HS, 6).argmax(1).item() == 4
    x, _, _ = M.smiles_to_graph("[Fe+3]")
    assert block(x, CHG, 4).argmax(1).item() == 3  # charge +3 is "other"
    x, ei, ea = M.smiles_to_graph("C#N")
    assert (ea[:, 2] == 1).all() and (block(x, HYB, 6)[:, 0] == 1).all()  # triple bond, SP


def test_features_agree_with_rdkit_on_esol():
    data = M.load_esol()
    for smiles in data.smiles[::20]:
        mol = Chem.MolFromSmiles(smiles)
        x, ei, ea = M.smiles_to_graph(smiles)
        assert x.shape[0] == mol.GetNumAtoms()
        assert ei.shape[1] == ea.shape[0] == 2 * mol.GetNumBonds()
        assert int(x[:, -2].sum()) == sum(a.GetIsAromatic() for a in mol.GetAtoms())
        assert int(x[:, -1].sum()) == sum(a.IsInRing() for a in mol.GetAtoms())
        assert torch.equal(torch.bincount(ei[1], minlength=x.shape[0]), torch.tensor([a.GetDegree() for a in mol.GetAtoms()]))
        num_h = (block(x, HS, 6)[:, :5] * torch.arange(5)).sum()
        assert int(num_h) == sum(a.GetTotalNumHs() for a in mol.GetAtoms())
        assert int(ea[:, 3].sum()) == 2 * sum(b.GetIsAromatic() for b in mol.GetBonds())


def _edges(x, ei, ea):
    return sorted((tuple(e), tuple(a)) for e, a in zip(ei.t().tolist(), ea.tolist())), x


def test_permute_molecule_follows_the_graph_convention():
    mol = Chem.MolFromSmiles("CC(=O)Nc1ccc(O)cc1")  # paracetamol: atoms of different kinds
    n = mol.GetNumAtoms()
    perm = torch.from_numpy(np.random.default_rng(3).permutation(n))
    x, ei, ea = M.mol_to_graph(mol)
    xp, eip = permute_graph(perm, x, ei)
    y, eiy, eay = M.mol_to_graph(M.permute_molecule(mol, perm))
    assert torch.equal(y, xp)
    assert _edges(y, eiy, eay)[0] == _edges(xp, eip, ea)[0]
    # the opposite convention (RenumberAtoms' new_order = perm) is a different graph labelling
    z, _, _ = M.mol_to_graph(Chem.RenumberAtoms(mol, perm.tolist()))
    assert not torch.equal(z, xp)


def test_randomized_smiles_are_the_same_molecule_and_seeded():
    smiles = "CC(=O)Oc1ccccc1C(=O)O"  # aspirin
    out = M.randomized_smiles(smiles, num=5, seed=0)
    assert out == M.randomized_smiles(smiles, num=5, seed=0)
    assert out != M.randomized_smiles(smiles, num=5, seed=1)
    assert len(set(out)) > 1
    canonical = Chem.MolToSmiles(Chem.MolFromSmiles(smiles))
    assert all(Chem.MolToSmiles(Chem.MolFromSmiles(s)) == canonical for s in out)


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return M.MoleculeRegressor(hidden=16, num_layers=2).eval()


def _predict(model, smiles_or_graphs):
    graphs = [M.smiles_to_graph(s) if isinstance(s, str) else s for s in smiles_or_graphs]
    return M.predict_molecules(model, graphs)


@pytest.mark.parametrize("readout", ["sum", "mean", "max"])
def test_prediction_is_invariant_to_atom_renumbering(readout):
    torch.manual_seed(1)
    model = M.MoleculeRegressor(hidden=16, num_layers=2, readout=readout).eval()
    mol = Chem.MolFromSmiles("CC(C)Cc1ccc(cc1)C(C)C(=O)O")  # ibuprofen
    n = mol.GetNumAtoms()
    graphs = [M.mol_to_graph(mol)]
    for seed in range(4):
        order = np.random.default_rng(seed).permutation(n).tolist()
        graphs.append(M.mol_to_graph(Chem.RenumberAtoms(mol, order)))
    pred = _predict(model, graphs)
    assert torch.allclose(pred, pred[0].expand_as(pred), atol=1e-5)
    # the graphs really are differently numbered, and a node-order-dependent read-out sees it
    assert not all(torch.equal(g[0], graphs[0][0]) for g in graphs[1:])
    with torch.no_grad():
        first_atom = [float(model.embed(g[0])[0].sum()) for g in graphs]
    assert max(first_atom) - min(first_atom) > 1e-3


def test_regressor_is_invariant_by_check_invariance(model):
    x, ei, ea = M.smiles_to_graph("CC(=O)Nc1ccc(O)cc1")
    batch = torch.zeros(x.shape[0], dtype=torch.long)
    with torch.no_grad():
        report = check_invariance(lambda x, ei, ea: model(x, ei, ea, batch), SymmetricGroup(x.shape[0]), (x, ei, ea),
                                  graph_action, samples=10, atol=1e-5)
        assert report.max_error < 1e-5
        # a read-out of the first atom's state is only equivariant: the same check catches it
        first_atom = lambda x, ei, ea: model.head(model.embed(x)[0])
        bad = check_invariance(first_atom, SymmetricGroup(x.shape[0]), (x, ei, ea), graph_action, samples=10,
                               raise_error=False)
    assert bad.max_error > 1e-3


def test_prediction_is_invariant_to_randomized_smiles(model):
    smiles = "CC(=O)Oc1ccccc1C(=O)O"
    variants = [smiles] + M.randomized_smiles(smiles, num=5, seed=0)
    pred = _predict(model, variants)
    assert torch.allclose(pred, pred[0].expand_as(pred), atol=1e-5)
    other = _predict(model, ["CCO"])
    assert abs(float(other[0]) - float(pred[0])) > 1e-3  # not a constant model


def test_batching_does_not_change_predictions(model):
    smiles = ["CCO", "c1ccccc1", "CC(=O)[O-].[Na+]", "ClC(Cl)Cl"]
    graphs = [M.smiles_to_graph(s) for s in smiles]
    together = M.predict_molecules(model, graphs)
    alone = torch.cat([M.predict_molecules(model, [g]) for g in graphs])
    assert torch.allclose(together, alone, atol=1e-5)
    x, ei, ea, b = M.batch_molecules(graphs)
    assert x.shape[0] == 3 + 6 + 5 + 4 and ea.shape[0] == ei.shape[1] and b.max() == 3


def test_esol_file_and_delaney_rmse():
    data = M.load_esol()
    assert len(data) == 1128 and data.y.shape == data.esol_predicted.shape == (1128,)
    assert round(M.rmse(data.esol_predicted, data.y), 3) == 0.910
    assert all(Chem.MolFromSmiles(s) is not None for s in data.smiles)


def test_random_split():
    tr, va, te = M.random_split(1128, seed=0)
    assert (len(tr), len(va), len(te)) == (902, 113, 113)
    assert torch.equal(torch.cat([tr, va, te]).sort().values, torch.arange(1128))
    again = M.random_split(1128, seed=0)
    assert all(torch.equal(a, b) for a, b in zip((tr, va, te), again))
    assert not torch.equal(M.random_split(1128, seed=1)[2], te)


def test_fit_ridge_picks_the_best_validation_alpha():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 30))
    y = X[:, 0] + 0.5 * rng.normal(size=120)
    tr, va = np.arange(80), np.arange(80, 120)
    result = M.fit_ridge(X, y, tr, va, alphas=(0.01, 10.0, 1e5))
    assert result.alpha == min(result.val_rmse, key=result.val_rmse.get)
    assert result.val_rmse[1e5] > result.val_rmse[result.alpha]
    from sklearn.linear_model import Ridge
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(X[tr])
    ref = Ridge(alpha=result.alpha).fit(scaler.transform(X[tr]), y[tr]).predict(scaler.transform(X[va]))
    assert np.allclose(result.model.predict(X[va]), ref)


def test_descriptor_features():
    smiles = ["CCO", "c1ccccc1", "CC(=O)O"]
    D = M.descriptor_features(smiles)
    from rdkit.Chem import Descriptors

    names = [n for n, _ in Descriptors._descList]
    col = names.index("MolLogP")
    assert D.shape == (3, len(names))
    assert np.allclose(D[:, col].numpy(), [Crippen.MolLogP(Chem.MolFromSmiles(s)) for s in smiles])
    F = M.descriptor_features(smiles, kind="morgan", num_bits=512)
    assert F.shape == (3, 512) and set(F.unique().tolist()) <= {0.0, 1.0} and (F.sum(1) > 0).all()


def test_fit_restores_the_best_epoch():
    data = M.load_esol()
    graphs = [M.smiles_to_graph(s) for s in data.smiles[:60]]
    y = data.y[:60]
    tr, va = torch.arange(40), torch.arange(40, 60)
    torch.manual_seed(0)
    model = M.MoleculeRegressor(hidden=8, num_layers=1)
    result = M.fit_molecule_regressor(model, graphs, y, tr, va, epochs=4, seed=0)
    assert len(result.val_rmse) == 4 and result.best_val_rmse == min(result.val_rmse)
    pred = M.predict_molecules(model, [graphs[i] for i in va], y_mean=result.y_mean, y_std=result.y_std)
    assert abs(M.rmse(pred, y[va]) - result.best_val_rmse) < 1e-6


@pytest.mark.parametrize(
    "call, exc, words",
    [
        (lambda: M.smiles_to_graph(None), TypeError, ["string"]),
        (lambda: M.smiles_to_graph(42), TypeError, ["string", "int"]),
        (lambda: M.smiles_to_graph(""), ValueError, ["empty"]),
        (lambda: M.smiles_to_graph("   "), ValueError, ["empty"]),
        (lambda: M.smiles_to_graph("C1CC"), ValueError, ["could not parse", "C1CC"]),
        (lambda: M.smiles_to_graph("CC(C"), ValueError, ["could not parse"]),
        (lambda: M.smiles_to_graph("C(C)(C)(C)(C)C"), ValueError, ["could not parse"]),  # pentavalent carbon
        (lambda: M.mol_to_graph("CCO"), TypeError, ["Mol"]),
        (lambda: M.atom_features("C"), TypeError, ["Atom"]),
        (lambda: M.bond_features(None), TypeError, ["Bond"]),
        (lambda: M.randomized_smiles("CCO", num=0), ValueError, ["num"]),
        (lambda: M.randomized_smiles("CCO", seed=1.5), TypeError, ["seed"]),
        (lambda: M.permute_molecule(Chem.MolFromSmiles("CCO"), [0, 0, 1]), ValueError, ["permutation"]),
        (lambda: M.permute_molecule(Chem.MolFromSmiles("CCO"), [0, 1]), ValueError, ["permutation"]),
        (lambda: M.random_split(100, fractions=(0.8, 0.1)), ValueError, ["three"]),
        (lambda: M.random_split(100, fractions=(0.8, 0.3, 0.1)), ValueError, ["sum to 1"]),
        (lambda: M.random_split(2), ValueError, ["num"]),
        (lambda: M.rmse([1.0, 2.0], [1.0]), ValueError, ["same"]),
        (lambda: M.batch_molecules([]), ValueError, ["non-empty"]),
        (lambda: M.batch_molecules([M.smiles_to_graph("CCO")[:2]]), ValueError, ["triple"]),
        (lambda: M.MoleculeRegressor(readout="avg"), ValueError, ["readout"]),
        (lambda: M.MoleculeRegressor(hidden=0), ValueError, ["hidden"]),
        (lambda: M.descriptor_features("CCO"), ValueError, ["list"]),
        (lambda: M.descriptor_features(["CCO"], kind="ecfp"), ValueError, ["kind"]),
        (lambda: M.fit_ridge(np.zeros((3, 2)), np.zeros(4), [0], [1]), ValueError, ["shape"]),
        (lambda: M.fit_ridge(np.zeros((3, 2)), np.zeros(3), [0], [1], alphas=(0.0,)), ValueError, ["positive"]),
        (lambda: M.fit_molecule_regressor(M.MoleculeRegressor(), [M.smiles_to_graph("CCO")], [1.0, 2.0], [0], [0]), ValueError, ["one target per graph"]),
        (lambda: M.fit_molecule_regressor(M.MoleculeRegressor(), [M.smiles_to_graph("CCO")], [float("nan")], [0], [0]), ValueError, ["NaN"]),
        (lambda: M.fit_molecule_regressor(M.MoleculeRegressor(), [M.smiles_to_graph("CCO")], [1.0], [3], [0]), ValueError, ["train_idx"]),
    ],
)
def test_bad_input(call, exc, words):
    with pytest.raises(exc) as info:
        call()
    for word in words:
        assert word.lower() in str(info.value).lower(), (word, str(info.value))


def test_missing_rdkit_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "rdkit", None)  # makes `from rdkit import ...` raise ImportError
    with pytest.raises(ImportError, match="pip install rdkit"):
        M.require_rdkit()
    with pytest.raises(ImportError, match="pip install rdkit"):
        M.smiles_to_graph("CCO")
    # the data loader and the model need no RDKit
    assert len(M.load_esol()) == 1128
    M.MoleculeRegressor(hidden=4, num_layers=1)


def test_importing_the_module_does_not_import_rdkit():
    code = "import sys, gdlutils.molecules; assert 'rdkit' not in sys.modules, 'rdkit imported eagerly'"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
