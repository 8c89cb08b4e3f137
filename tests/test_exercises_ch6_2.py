"""Self-checks of section 6.2: each passes on the reference solution and fails on plausible
wrong answers."""
import numpy as np
import pytest

pytest.importorskip("rdkit")
from rdkit import Chem  # noqa: E402
from rdkit.Chem import Crippen, Descriptors, Lipinski  # noqa: E402

from gdlutils.exercises import check  # noqa: E402
from gdlutils.molecules import descriptor_features, fit_ridge, load_esol, random_split, rmse  # noqa: E402


# 6.2.1
def esol(smiles, with_hydrogens=False, proportion=True, rb_sign=1.0):
    mol = Chem.MolFromSmiles(smiles)
    counted = Chem.AddHs(mol) if with_hydrogens else mol
    ap = sum(a.GetIsAromatic() for a in counted.GetAtoms())
    if proportion:
        ap /= counted.GetNumAtoms()
    return (0.16 - 0.63 * Crippen.MolLogP(mol) - 0.0062 * Descriptors.MolWt(mol)
            + rb_sign * 0.066 * Lipinski.NumRotatableBonds(mol) - 0.74 * ap)


@pytest.mark.parametrize("wrong", [
    lambda s: esol(s, with_hydrogens=True),  # aromatic proportion over all atoms, hydrogens included
    lambda s: esol(s, proportion=False),  # number of aromatic atoms, not their proportion
    lambda s: esol(s, rb_sign=-1.0),  # sign of the rotatable-bond term
    lambda s: "-1.0",  # a string
])
def test_6_2_1(wrong):
    assert check("6.2.1", esol)
    assert not check("6.2.1", wrong)


# 6.2.2
def same_molecule(a, b):
    return Chem.MolToSmiles(Chem.MolFromSmiles(a)) == Chem.MolToSmiles(Chem.MolFromSmiles(b))


def formula(s):
    return Chem.rdMolDescriptors.CalcMolFormula(Chem.MolFromSmiles(s))


def sorted_atoms(s):
    mol = Chem.MolFromSmiles(s)
    return sorted((a.GetSymbol(), a.GetDegree(), a.GetTotalNumHs(), a.GetIsAromatic()) for a in mol.GetAtoms())


@pytest.mark.parametrize("wrong", [
    lambda a, b: a == b,  # string equality: the atom order matters
    lambda a, b: formula(a) == formula(b),  # same formula: isomers collide
    lambda a, b: sorted_atoms(a) == sorted_atoms(b),  # multiset of atom features: ortho/meta-xylene collide
    lambda a, b: Chem.MolToSmiles(Chem.MolFromSmiles(a), canonical=False) == Chem.MolToSmiles(Chem.MolFromSmiles(b), canonical=False),
])
def test_6_2_2(wrong):
    assert check("6.2.2", same_molecule)
    assert not check("6.2.2", wrong)


# 6.2.3
@pytest.fixture(scope="module")
def ridge_numbers():
    data = load_esol()
    X = descriptor_features(data.smiles, kind="morgan").numpy()
    y = data.y.numpy()
    tr, va, te = (i.numpy() for i in random_split(len(data), seed=0))
    result = fit_ridge(X, y, tr, va)
    on_test = {}
    for alpha in result.val_rmse:
        on_test[alpha] = rmse(fit_ridge(X, y, tr, te, alphas=(alpha,)).model.predict(X[te]), y[te])
    return {
        "right": rmse(result.model.predict(X[te]), y[te]),
        "alpha picked on test": min(on_test.values()),
        "train": rmse(result.model.predict(X[tr]), y[tr]),
        "validation": result.val_rmse[result.alpha],
        "other split": rmse(fit_ridge(X, y, *(i.numpy() for i in random_split(len(data), seed=1)[:2])).model.predict(X[te]), y[te]),
    }


@pytest.mark.parametrize("wrong", ["alpha picked on test", "train", "validation", "other split"])
def test_6_2_3(ridge_numbers, wrong):
    assert check("6.2.3", ridge_numbers["right"])
    assert ridge_numbers[wrong] != ridge_numbers["right"]
    assert not check("6.2.3", ridge_numbers[wrong])
    assert not check("6.2.3", np.nan)
