"""Self-checks for the exercises of section 6.2 (molecules: aqueous solubility, ESOL).

6.2.1: Delaney's ESOL equation from RDKit descriptors;
6.2.2: deciding whether two SMILES strings are the same molecule (a canonical form);
6.2.3: a ridge baseline on Morgan fingerprints, its penalty chosen on the validation set.
"""
from __future__ import annotations

import functools
import math

import numpy as np

from . import ExerciseFailure, exercise

# a few molecules with aromatic and non-aromatic parts, rotatable bonds and hetero atoms
_MOLECULES = [
    "CCO",
    "c1ccccc1",
    "CC(=O)Oc1ccccc1C(=O)O",
    "CC(C)Cc1ccc(cc1)C(C)C(=O)O",
    "ClC(Cl)(Cl)Cl",
    "CCCCCCCCO",
    "c1ccc2ccccc2c1",
    "O=C1NC(=O)C(N1)(c2ccccc2)c3ccccc3",
]


def _esol_reference(smiles: str) -> float:
    from rdkit.Chem import Crippen, Descriptors, Lipinski

    from ..molecules import mol_from_smiles

    mol = mol_from_smiles(smiles)
    aromatic_proportion = sum(a.GetIsAromatic() for a in mol.GetAtoms()) / mol.GetNumAtoms()
    return (0.16 - 0.63 * Crippen.MolLogP(mol) - 0.0062 * Descriptors.MolWt(mol)
            + 0.066 * Lipinski.NumRotatableBonds(mol) - 0.74 * aromatic_proportion)


def _number(value, what: str) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ExerciseFailure(f"{what} should return a number, got {type(value).__name__}") from None
    if not math.isfinite(out):
        raise ExerciseFailure(f"{what} returned {out}; expected a finite number")
    return out


# ---------------------------------------------------------------------------------------- 6.2.1


@exercise("6.2.1", "Delaney's ESOL equation from RDKit descriptors")
def _esol_equation(esol_equation):
    """``esol_equation(smiles)`` -> 0.16 - 0.63 clogP - 0.0062 MW + 0.066 RB - 0.74 AP."""
    for smiles in _MOLECULES:
        got = _number(esol_equation(smiles), "esol_equation")
        want = _esol_reference(smiles)
        if abs(got - want) > 1e-6:
            benzene = _number(esol_equation("c1ccccc1"), "esol_equation") - _esol_reference("c1ccccc1")
            hint = ""
            if abs(benzene) > 1e-6:
                hint = (" (benzene, with no rotatable bond, is off too: check the logP, weight and aromatic terms; "
                        "the aromatic proportion is aromatic heavy atoms / heavy atoms, hydrogens not counted)")
            raise ExerciseFailure(f"for {smiles} you give {got:.4f}, expected {want:.4f}{hint}")
    return "your equation matches Delaney's coefficients on RDKit's descriptors for every test molecule."


# ---------------------------------------------------------------------------------------- 6.2.2

_SAME = [
    ("OCC", "CCO"),
    ("c1ccccc1O", "Oc1ccccc1"),
    ("CC(=O)Oc1ccccc1C(=O)O", "OC(=O)c1ccccc1OC(C)=O"),
    ("C1CCCCC1", "C1CCCCC1"),
    ("C(C)(C)O", "CC(O)C"),
]
_DIFFERENT = [
    ("CCO", "COC"),  # ethanol and dimethyl ether: same formula C2H6O
    ("Cc1ccccc1C", "Cc1cccc(C)c1"),  # ortho- and meta-xylene: same atoms, same bond types
    ("CCCC", "CC(C)C"),  # butane and isobutane
    ("C1CCCCC1", "C=CCCCC"),  # cyclohexane and hexene: C6H12
    ("CCO", "CCN"),
]


@exercise("6.2.2", "the same molecule, whatever the atom order")
def _same_molecule(same_molecule):
    """``same_molecule(a, b)`` -> True iff the SMILES strings a and b describe the same molecule."""
    from ..molecules import randomized_smiles

    for a, b in _SAME:
        if same_molecule(a, b) is not True:
            raise ExerciseFailure(f"{a!r} and {b!r} are the same molecule written from different atom orders; you say they differ")
    for s in ("CC(C)Cc1ccc(cc1)C(C)C(=O)O", "O=C1NC(=O)C(N1)(c2ccccc2)c3ccccc3"):
        for r in randomized_smiles(s, num=3, seed=7):
            if same_molecule(s, r) is not True:
                raise ExerciseFailure(f"{r!r} is {s!r} with its atoms renumbered; you say they differ")
    for a, b in _DIFFERENT:
        if same_molecule(a, b) is not False:
            raise ExerciseFailure(f"{a!r} and {b!r} are different molecules (isomers have the same atoms but other bonds); you say they are the same")
    return "equal exactly on the orbits of atom renumbering: a canonical form is a complete invariant."


# ---------------------------------------------------------------------------------------- 6.2.3


@functools.lru_cache(maxsize=2)  # the numbers are fixed; a notebook may check several answers
def _ridge_numbers(seed: int = 0) -> dict:
    from ..molecules import descriptor_features, fit_ridge, load_esol, random_split, rmse

    data = load_esol()
    X = descriptor_features(data.smiles, kind="morgan").numpy()
    y = data.y.numpy()
    tr, va, te = (i.numpy() for i in random_split(len(data), seed=seed))
    result = fit_ridge(X, y, tr, va)
    test_by_alpha = {}
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    for alpha in result.val_rmse:
        model = make_pipeline(StandardScaler(), Ridge(alpha=alpha)).fit(X[tr], y[tr])
        test_by_alpha[alpha] = rmse(model.predict(X[te]), y[te])
    return {
        "reference": rmse(result.model.predict(X[te]), y[te]),
        "on_test": min(test_by_alpha.values()),
        "train": rmse(result.model.predict(X[tr]), y[tr]),
        "validation": result.val_rmse[result.alpha],
    }


@exercise("6.2.3", "a fingerprint ridge baseline, its penalty chosen on the validation set")
def _ridge_test_rmse(test_rmse):
    """``test_rmse``: the test RMSE of ridge on Morgan fingerprints (radius 2, 2048 bits), split seed 0."""
    got = _number(test_rmse, "your answer")
    numbers = _ridge_numbers(0)
    if abs(got - numbers["reference"]) < 1e-6:
        return f"test RMSE {got:.3f}: the penalty was chosen without looking at the test set."
    if abs(got - numbers["on_test"]) < 1e-6:
        raise ExerciseFailure("this is the best test RMSE over the penalties: you chose alpha by looking at the test set")
    if abs(got - numbers["train"]) < 1e-6:
        raise ExerciseFailure("this is the RMSE on the training molecules; report it on the test split")
    if abs(got - numbers["validation"]) < 1e-6:
        raise ExerciseFailure("this is the validation RMSE of the chosen penalty; report it on the test split")
    raise ExerciseFailure(
        f"{got:.4f} is not the test RMSE of the recipe (random_split(seed=0), Morgan radius 2 with 2048 bits, "
        "fit_ridge's default penalties, chosen on validation)"
    )
