"""Molecules as graphs: featurisation, the ESOL solubility data, a message-passing regressor and
its baselines (section 6.2).

A molecule is a graph whose nodes are its heavy atoms and whose edges are its chemical bonds.
The numbering of the atoms is arbitrary (a SMILES string fixes one, another SMILES string of the
same molecule fixes another), so a property of the molecule must be a function of the graph that
is *invariant* to permutations of the atoms: :math:`f(PX, PAP^\\top, E') = f(X, A, E)`, where
the edge features :math:`E` follow their edges. Message passing with a permutation-invariant
read-out has exactly this symmetry.

Contents:

1. RDKit, loaded lazily (:func:`require_rdkit`); it is not a dependency of ``gdlutils``.
2. Featurisation: :func:`atom_features`, :func:`bond_features`, :func:`mol_to_graph`,
   :func:`smiles_to_graph`, :func:`randomized_smiles`, :func:`permute_molecule`.
3. Data: :func:`load_esol`, :func:`random_split`, :func:`rmse`.
4. The model: :class:`MoleculeRegressor` (:class:`gdlutils.gnn.MPNNConv` layers with edge
   features and a :func:`gdlutils.gnn.global_pool` read-out), :func:`batch_molecules`,
   :func:`fit_molecule_regressor`, :func:`predict_molecules`.
5. Baselines: :func:`descriptor_features` (RDKit descriptors or Morgan fingerprints) and
   :func:`fit_ridge` (ridge regression with its penalty picked on the validation set).

Introduced in: 6.2, :doc:`/book/06_applications/06_2_molecules`.
"""
from __future__ import annotations

import copy
import csv
import math
import time
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import torch
from torch import Tensor, nn

from gdlutils.gnn import MPNNConv, batch_graphs, global_pool, mlp
from gdlutils.utils import reset_submodules

__all__ = [
    "require_rdkit",
    "ELEMENTS",
    "HYBRIDIZATIONS",
    "BOND_TYPES",
    "NUM_ATOM_FEATURES",
    "NUM_BOND_FEATURES",
    "atom_features",
    "bond_features",
    "mol_from_smiles",
    "mol_to_graph",
    "smiles_to_graph",
    "randomized_smiles",
    "permute_molecule",
    "ESOL",
    "load_esol",
    "random_split",
    "rmse",
    "batch_molecules",
    "MoleculeRegressor",
    "MoleculeFitResult",
    "fit_molecule_regressor",
    "predict_molecules",
    "descriptor_features",
    "RidgeResult",
    "fit_ridge",
]


# ---------------------------------------------------------------------------------------- 1. RDKit
def require_rdkit():
    """Import RDKit's ``Chem`` module, or raise an ``ImportError`` saying how to install it.

    RDKit parses SMILES strings and knows the chemistry (aromaticity, hybridisation, implicit
    hydrogens); ``gdlutils`` imports it only inside the functions of this module that need it.

    Introduced in: 6.2, :doc:`/book/06_applications/06_2_molecules`.
    """
    try:
        from rdkit import Chem, RDLogger
    except ImportError as err:
        raise ImportError(
            "gdlutils.molecules needs RDKit to read molecules, and it is not installed: "
            "run `pip install rdkit` (in a notebook: `%pip install rdkit`), then restart the kernel"
        ) from err
    RDLogger.DisableLog("rdApp.*")  # parse errors become our ValueError, not stderr noise
    return Chem


# ---------------------------------------------------------------------------------------- 2. featurisation
#: Elements with their own one-hot slot (every other element shares the slot "other").
ELEMENTS: tuple[str, ...] = ("C", "N", "O", "S", "F", "Cl", "Br", "I", "P")
#: Hybridisation states with their own slot (names of ``rdkit.Chem.HybridizationType``).
HYBRIDIZATIONS: tuple[str, ...] = ("SP", "SP2", "SP3", "SP3D", "SP3D2")
#: Bond types with their own slot (names of ``rdkit.Chem.BondType``).
BOND_TYPES: tuple[str, ...] = ("SINGLE", "DOUBLE", "TRIPLE", "AROMATIC")
_DEGREES = (0, 1, 2, 3, 4, 5)
_CHARGES = (-1, 0, 1)
_NUM_HS = (0, 1, 2, 3, 4)

#: Length of :func:`atom_features`: one-hots of element (+ other), degree (+ other), formal
#: charge (+ other), number of hydrogens (+ other), hybridisation (+ other); aromatic; in a ring.
NUM_ATOM_FEATURES = (len(ELEMENTS) + 1) + (len(_DEGREES) + 1) + (len(_CHARGES) + 1) + (len(_NUM_HS) + 1) + (len(HYBRIDIZATIONS) + 1) + 2
#: Length of :func:`bond_features`: one-hot bond type; conjugated; in a ring.
NUM_BOND_FEATURES = len(BOND_TYPES) + 2


def _one_hot(value, choices: Sequence, other: bool = True) -> list[float]:
    """One-hot of ``value`` among ``choices``, with a last slot for anything else if ``other``."""
    out = [float(value == c) for c in choices]
    if other:
        out.append(float(value not in choices))
    return out


def _check_atom_or_bond(obj, kind: str) -> None:
    Chem = require_rdkit()
    cls = Chem.Atom if kind == "atom" else Chem.Bond
    if not isinstance(obj, cls):
        raise TypeError(f"{kind}_features expects an rdkit.Chem.{cls.__name__} (e.g. mol.Get{cls.__name__}WithIdx(0)), got {type(obj).__name__}")


def atom_features(atom) -> list[float]:
    """The feature vector of one atom (length :data:`NUM_ATOM_FEATURES` = 35):

    one-hot element among :data:`ELEMENTS` + other; one-hot degree (number of heavy-atom
    neighbours) 0-5 + other; one-hot formal charge -1, 0, +1 + other; one-hot total number of
    hydrogens 0-4 + other; one-hot hybridisation among :data:`HYBRIDIZATIONS` + other;
    aromatic (0/1); in a ring (0/1).

    Introduced in: 6.2, :doc:`/book/06_applications/06_2_molecules`.
    """
    _check_atom_or_bond(atom, "atom")
    return (
        _one_hot(atom.GetSymbol(), ELEMENTS)
        + _one_hot(atom.GetDegree(), _DEGREES)
        + _one_hot(atom.GetFormalCharge(), _CHARGES)
        + _one_hot(atom.GetTotalNumHs(), _NUM_HS)
        + _one_hot(str(atom.GetHybridization()), HYBRIDIZATIONS)
        + [float(atom.GetIsAromatic()), float(atom.IsInRing())]
    )


def bond_features(bond) -> list[float]:
    """The feature vector of one bond (length :data:`NUM_BOND_FEATURES` = 6): one-hot bond
    type among :data:`BOND_TYPES`; conjugated (0/1); in a ring (0/1).

    Introduced in: 6.2, :doc:`/book/06_applications/06_2_molecules`.
    """
    _check_atom_or_bond(bond, "bond")
    btype = str(bond.GetBondType())
    if btype not in BOND_TYPES:
        raise ValueError(f"bond_features knows the bond types {BOND_TYPES}, got {btype} (bond {bond.GetIdx()})")
    return _one_hot(btype, BOND_TYPES, other=False) + [float(bond.GetIsConjugated()), float(bond.IsInRing())]


def mol_from_smiles(smiles: str):
    """Parse a SMILES string with RDKit into a molecule (hydrogens implicit), with a clear error
    when the string is not a string, is empty or does not parse.

    Introduced in: 6.2, :doc:`/book/06_applications/06_2_molecules`.
    """
    if not isinstance(smiles, str):
        raise TypeError(f"smiles must be a string such as 'CCO' (ethanol), got {type(smiles).__name__}")
    text = smiles.strip()
    if not text:
        raise ValueError("smiles is empty; give a SMILES string such as 'CCO' (ethanol)")
    Chem = require_rdkit()
    mol = Chem.MolFromSmiles(text)
    if mol is None:
        raise ValueError(
            f"RDKit could not parse the SMILES string {smiles!r} (check brackets, ring-closure digits "
            "and valences, e.g. 'c1ccccc1' for benzene)"
        )
    if mol.GetNumAtoms() == 0:
        raise ValueError(f"the SMILES string {smiles!r} has no atoms")
    return mol


def mol_to_graph(mol) -> tuple[Tensor, Tensor, Tensor]:
    """The graph of an RDKit molecule: heavy atoms as nodes (in RDKit's atom order), each bond
    as two directed edges :math:`j \\to i` and :math:`i \\to j` carrying the same bond features.

    Shapes:
        returns x ``(n, NUM_ATOM_FEATURES)`` float32, edge_index ``(2, 2B)`` long (edge ``2b``
        is bond ``b`` from its begin to its end atom, edge ``2b+1`` the reverse), edge_attr
        ``(2B, NUM_BOND_FEATURES)`` float32, for ``n`` atoms and ``B`` bonds.

    Introduced in: 6.2, :doc:`/book/06_applications/06_2_molecules`.
    """
    Chem = require_rdkit()
    if not isinstance(mol, Chem.Mol):
        raise TypeError(f"mol_to_graph expects an rdkit.Chem.Mol (e.g. from mol_from_smiles), got {type(mol).__name__}")
    if mol.GetNumAtoms() == 0:
        raise ValueError("mol_to_graph: the molecule has no atoms")
    x = torch.tensor([atom_features(a) for a in mol.GetAtoms()], dtype=torch.float32)
    pairs, attrs = [], []
    for bond in mol.GetBonds():
        j, i = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
        feats = bond_features(bond)
        pairs += [(j, i), (i, j)]
        attrs += [feats, feats]
    edge_index = torch.tensor(pairs, dtype=torch.long).t().reshape(2, -1)
    edge_attr = torch.tensor(attrs, dtype=torch.float32).reshape(-1, NUM_BOND_FEATURES)
    return x, edge_index, edge_attr


def smiles_to_graph(smiles: str) -> tuple[Tensor, Tensor, Tensor]:
    """Parse a SMILES string and return its molecular graph ``(x, edge_index, edge_attr)``
    (:func:`mol_from_smiles` then :func:`mol_to_graph`).

    Shapes:
        returns x ``(n, NUM_ATOM_FEATURES)``, edge_index ``(2, 2B)``, edge_attr ``(2B, NUM_BOND_FEATURES)``.

    Introduced in: 6.2, :doc:`/book/06_applications/06_2_molecules`.
    """
    return mol_to_graph(mol_from_smiles(smiles))


def _check_seed(seed, name: str = "seed") -> None:
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        raise TypeError(f"{name} must be an int or None, got {type(seed).__name__}")


def permute_molecule(mol, perm):
    """Renumber the atoms of a molecule by the permutation :math:`\\pi`: atom ``u`` becomes atom
    ``perm[u]`` = :math:`\\pi(u)`, as :func:`gdlutils.graphs.permute_graph` acts on graphs, so
    ``mol_to_graph(permute_molecule(mol, perm))`` is the permuted graph (up to the order of the
    edge list). RDKit's ``RenumberAtoms(mol, new_order)`` takes the inverse, ``new_order[π(u)] = u``.

    Shapes:
        perm: ``(n,)`` for a molecule of ``n`` atoms.

    Introduced in: 6.2, :doc:`/book/06_applications/06_2_molecules`.
    """
    Chem = require_rdkit()
    if not isinstance(mol, Chem.Mol):
        raise TypeError(f"permute_molecule expects an rdkit.Chem.Mol, got {type(mol).__name__}")
    perm = torch.as_tensor(perm)
    n = mol.GetNumAtoms()
    if perm.dim() != 1 or perm.numel() != n or perm.dtype.is_floating_point or not torch.equal(perm.sort().values, torch.arange(n)):
        raise ValueError(f"perm must be a permutation of 0..{n - 1} (one entry per atom), got {perm.tolist()}")
    return Chem.RenumberAtoms(mol, torch.argsort(perm).tolist())


def randomized_smiles(smiles: str, num: int = 1, seed: int | None = 0) -> list[str]:
    """``num`` SMILES strings of the same molecule, each written from a random renumbering of its
    atoms (the molecule is the same; the atom order, and so the node order of its graph, differs).

    Args:
        smiles: a SMILES string.
        num: how many strings to write.
        seed: seed of the random renumberings (``None``: fresh randomness).

    Introduced in: 6.2, :doc:`/book/06_applications/06_2_molecules`.
    """
    if isinstance(num, bool) or not isinstance(num, (int, np.integer)) or num < 1:
        raise ValueError(f"num must be a positive int, got {num!r}")
    _check_seed(seed)
    Chem = require_rdkit()
    mol = mol_from_smiles(smiles)
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(int(num)):
        perm = torch.from_numpy(rng.permutation(mol.GetNumAtoms()))
        out.append(Chem.MolToSmiles(permute_molecule(mol, perm), canonical=False))
    return out


# ---------------------------------------------------------------------------------------- 3. data
@dataclass
class ESOL:
    """The ESOL data set :cite:`delaney2004esol` as MoleculeNet distributes it :cite:`wu2018moleculenet`.

    Attributes:
        smiles: the 1128 SMILES strings.
        y: measured log-solubility, :math:`\\log_{10}` (mol/L), float64 ``(1128,)``.
        esol_predicted: the predictions of Delaney's linear ESOL equation (a column of the file),
            float64 ``(1128,)``.
        names: the compound names.

    Introduced in: 6.2, :doc:`/book/06_applications/06_2_molecules`.
    """

    smiles: list[str]
    y: Tensor
    esol_predicted: Tensor
    names: list[str]

    def __len__(self) -> int:
        return len(self.smiles)


def load_esol() -> ESOL:
    """Read ``molecules/delaney-processed.csv`` (fetched through :func:`gdlutils.data.fetch`,
    downloaded for online readers) into an :class:`ESOL` record. Parsing needs no RDKit.

    Introduced in: 6.2, :doc:`/book/06_applications/06_2_molecules`.
    """
    from gdlutils.data import fetch

    path = fetch("molecules/delaney-processed.csv")
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    measured = "measured log solubility in mols per litre"
    predicted = "ESOL predicted log solubility in mols per litre"
    return ESOL(
        smiles=[r["smiles"].strip() for r in rows],
        y=torch.tensor([float(r[measured]) for r in rows], dtype=torch.float64),
        esol_predicted=torch.tensor([float(r[predicted]) for r in rows], dtype=torch.float64),
        names=[r["Compound ID"] for r in rows],
    )


def random_split(num: int, fractions: Sequence[float] = (0.8, 0.1, 0.1), seed: int | None = 0) -> tuple[Tensor, Tensor, Tensor]:
    """A random split of the indices ``0..num-1`` into train/validation/test parts of the given
    fractions (MoleculeNet's random split): the first ``round(f_train num)`` indices of a seeded
    random permutation, the next ``round(f_val num)``, then the rest.

    Shapes:
        returns three disjoint long tensors covering ``0..num-1``.

    Introduced in: 6.2, :doc:`/book/06_applications/06_2_molecules`.
    """
    if isinstance(num, bool) or not isinstance(num, (int, np.integer)) or num < 3:
        raise ValueError(f"num must be an int >= 3 (the number of items to split), got {num!r}")
    if not hasattr(fractions, "__len__") or len(fractions) != 3:
        raise ValueError(f"fractions must be three numbers (train, validation, test), got {fractions!r}")
    fr = [float(f) for f in fractions]
    if min(fr) <= 0 or abs(sum(fr) - 1) > 1e-9:
        raise ValueError(f"fractions must be positive and sum to 1, got {tuple(fractions)}")
    _check_seed(seed)
    perm = torch.from_numpy(np.random.default_rng(seed).permutation(int(num)))
    n_train, n_val = round(fr[0] * num), round(fr[1] * num)
    return perm[:n_train], perm[n_train:n_train + n_val], perm[n_train + n_val:]


def rmse(pred, target) -> float:
    """Root-mean-square error :math:`\\sqrt{\\tfrac1N\\sum_k (\\hat y_k - y_k)^2}`.

    Shapes:
        pred, target: ``(N,)`` (tensors or arrays).

    Introduced in: 6.2, :doc:`/book/06_applications/06_2_molecules`.
    """
    p = torch.as_tensor(np.asarray(pred, dtype=np.float64) if not isinstance(pred, Tensor) else pred).double().reshape(-1)
    t = torch.as_tensor(np.asarray(target, dtype=np.float64) if not isinstance(target, Tensor) else target).double().reshape(-1)
    if p.shape != t.shape or p.numel() == 0:
        raise ValueError(f"rmse needs pred and target of the same non-zero length, got {p.numel()} and {t.numel()}")
    return float(((p.cpu() - t.cpu()) ** 2).mean().sqrt())


# ---------------------------------------------------------------------------------------- 4. the model
def batch_molecules(graphs: Sequence[tuple]) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Merge molecular graphs ``(x, edge_index, edge_attr)`` into one disjoint union
    (:func:`gdlutils.gnn.batch_graphs` for the nodes and edges; the edge features are stacked
    in the same order).

    Shapes:
        returns x ``(sum n_k, F)``, edge_index ``(2, sum E_k)``, edge_attr ``(sum E_k, D)``,
        batch ``(sum n_k,)``.

    Introduced in: 6.2, :doc:`/book/06_applications/06_2_molecules`.
    """
    if isinstance(graphs, (Tensor, str)) or not hasattr(graphs, "__len__") or len(graphs) == 0:
        raise ValueError("batch_molecules needs a non-empty list of (x, edge_index, edge_attr) triples")
    for k, g in enumerate(graphs):
        if not isinstance(g, (tuple, list)) or len(g) != 3:
            raise ValueError(f"graph {k} must be a triple (x, edge_index, edge_attr) as smiles_to_graph returns, got {type(g).__name__}")
        if not isinstance(g[2], Tensor) or g[2].dim() != 2 or g[2].size(0) != g[1].size(-1):
            raise ValueError(f"graph {k}: edge_attr must have shape (E, D) with E = {g[1].size(-1)} edges, got {getattr(g[2], 'shape', type(g[2]).__name__)}")
    x, edge_index, batch = batch_graphs([(g[0], g[1]) for g in graphs])
    edge_attr = torch.cat([g[2] for g in graphs])
    return x, edge_index, edge_attr, batch


class MoleculeRegressor(nn.Module):
    """A message-passing network for a molecular property :cite:`gilmer2017neural`:

    .. math::

        \\mathbf h^{(0)}_i = W\\mathbf x_i, \\qquad
        \\mathbf h^{(\\ell+1)}_i = \\mathbf h^{(\\ell)}_i + \\mathrm{ReLU}\\big(\\mathrm{MPNN}(\\mathbf h^{(\\ell)}, \\mathbf e)_i\\big), \\qquad
        \\hat y = \\mathrm{MLP}\\Big(\\bigoplus_i \\mathbf h^{(L)}_i\\Big)

    with :class:`gdlutils.gnn.MPNNConv` layers (messages see both atoms and the bond features)
    and a :func:`gdlutils.gnn.global_pool` read-out (``readout`` = sum or mean). Every layer is
    permutation-equivariant and the read-out invariant, so the prediction does not depend on the
    numbering of the atoms.

    Shapes:
        x ``(n, in_channels)``; edge_index ``(2, E)``; edge_attr ``(E, edge_dim)``; batch ``(n,)``;
        returns ``(num_graphs,)``.

    Introduced in: 6.2, :doc:`/book/06_applications/06_2_molecules`.
    """

    def __init__(self, in_channels: int = NUM_ATOM_FEATURES, hidden: int = 64, edge_dim: int = NUM_BOND_FEATURES,
                 num_layers: int = 3, readout: str = "sum"):
        super().__init__()
        for name, value in (("in_channels", in_channels), ("hidden", hidden), ("edge_dim", edge_dim), ("num_layers", num_layers)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if readout not in ("sum", "mean", "max"):
            raise ValueError(f"readout must be 'sum', 'mean' or 'max', got {readout!r}")
        self.in_channels, self.hidden, self.edge_dim, self.num_layers, self.readout = in_channels, hidden, edge_dim, num_layers, readout
        self.embed = nn.Linear(in_channels, hidden)
        self.convs = nn.ModuleList(MPNNConv(hidden, hidden, edge_dim=edge_dim) for _ in range(num_layers))
        self.head = mlp([hidden, hidden, 1])

    def reset_parameters(self) -> None:
        self.embed.reset_parameters()
        for conv in self.convs:
            conv.reset_parameters()
        reset_submodules(self.head)

    def extra_repr(self) -> str:
        return f"in_channels={self.in_channels}, hidden={self.hidden}, edge_dim={self.edge_dim}, num_layers={self.num_layers}, readout={self.readout!r}"

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor, batch: Tensor, num_graphs: int | None = None) -> Tensor:
        if num_graphs is None:
            num_graphs = int(batch.max()) + 1 if isinstance(batch, Tensor) and batch.numel() else 0
        h = self.embed(x)
        for conv in self.convs:
            h = h + torch.relu(conv(h, edge_index, edge_attr))
        return self.head(global_pool(h, batch, num_graphs, reduce=self.readout)).squeeze(-1)


@dataclass
class MoleculeFitResult:
    """What :func:`fit_molecule_regressor` returns: the best epoch by validation RMSE, its
    validation RMSE, the curves, the target scaling used and the training time in seconds.

    Introduced in: 6.2, :doc:`/book/06_applications/06_2_molecules`.
    """

    best_epoch: int
    best_val_rmse: float
    train_loss: list[float] = field(default_factory=list)
    val_rmse: list[float] = field(default_factory=list)
    y_mean: float = 0.0
    y_std: float = 1.0
    seconds: float = 0.0


def _check_graphs_and_targets(graphs, y) -> Tensor:
    if isinstance(graphs, (Tensor, str)) or not hasattr(graphs, "__len__") or len(graphs) == 0:
        raise ValueError("graphs must be a non-empty list of (x, edge_index, edge_attr) triples (smiles_to_graph)")
    y = torch.as_tensor(y, dtype=torch.float64).reshape(-1)
    if y.numel() != len(graphs):
        raise ValueError(f"y must have one target per graph: {len(graphs)} graphs, got {y.numel()} targets")
    if not torch.isfinite(y).all():
        raise ValueError("y contains NaN or infinite targets")
    return y


def predict_molecules(model: nn.Module, graphs: Sequence[tuple], *, batch_size: int = 256, y_mean: float = 0.0,
                      y_std: float = 1.0, device: torch.device | str | None = None) -> Tensor:
    """Predictions of ``model`` for each graph, in evaluation mode and without gradients, mapped
    back to the target's units by ``y_mean + y_std * output``.

    Shapes:
        returns ``(len(graphs),)`` float64 on the CPU.

    Introduced in: 6.2, :doc:`/book/06_applications/06_2_molecules`.
    """
    if isinstance(graphs, (Tensor, str)) or not hasattr(graphs, "__len__") or len(graphs) == 0:
        raise ValueError("graphs must be a non-empty list of (x, edge_index, edge_attr) triples (smiles_to_graph)")
    device = torch.device(device) if device is not None else next(model.parameters()).device
    was_training = model.training
    model.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(graphs), batch_size):
            chunk = graphs[start:start + batch_size]
            x, ei, ea, b = (t.to(device) for t in batch_molecules(chunk))
            out.append(model(x, ei, ea, b, len(chunk)).double().cpu())
    model.train(was_training)
    return y_mean + y_std * torch.cat(out)


def fit_molecule_regressor(
    model: nn.Module,
    graphs: Sequence[tuple],
    y,
    train_idx: Tensor,
    val_idx: Tensor,
    *,
    epochs: int = 60,
    lr: float = 1e-3,
    batch_size: int = 32,
    weight_decay: float = 0.0,
    seed: int | None = 0,
    device: torch.device | str | None = None,
) -> MoleculeFitResult:
    """Train ``model`` (a :class:`MoleculeRegressor`) by Adam on the mean squared error of the
    standardised targets :math:`(y - \\bar y)/s` (mean and standard deviation of the training
    set), evaluate the validation RMSE after every epoch, and keep the weights of the best epoch
    (model selection on the validation set; the test set is never seen).

    Shapes:
        graphs: a list of ``N`` triples from :func:`smiles_to_graph`; y ``(N,)``; train_idx,
        val_idx: 1-D integer tensors of indices into ``graphs``.

    Introduced in: 6.2, :doc:`/book/06_applications/06_2_molecules`.
    """
    y = _check_graphs_and_targets(graphs, y)
    for name, idx in (("train_idx", train_idx), ("val_idx", val_idx)):
        idx = torch.as_tensor(idx)
        if idx.dim() != 1 or idx.numel() == 0 or idx.dtype.is_floating_point or int(idx.min()) < 0 or int(idx.max()) >= len(graphs):
            raise ValueError(f"{name} must be a non-empty 1-D integer tensor of indices in [0, {len(graphs)}), got {idx}")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive int, got {epochs!r}")
    _check_seed(seed)
    train_idx, val_idx = torch.as_tensor(train_idx), torch.as_tensor(val_idx)
    device = torch.device(device) if device is not None else next(model.parameters()).device
    model.to(device)
    y_mean, y_std = float(y[train_idx].mean()), float(y[train_idx].std())
    target = ((y - y_mean) / y_std).float()
    generator = torch.Generator().manual_seed(seed if seed is not None else int(torch.seed() % 2**63))
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    val_graphs = [graphs[int(i)] for i in val_idx]
    result = MoleculeFitResult(best_epoch=-1, best_val_rmse=math.inf, y_mean=y_mean, y_std=y_std)
    best_state = None
    start = time.perf_counter()
    for epoch in range(epochs):
        model.train()
        order = train_idx[torch.randperm(train_idx.numel(), generator=generator)]
        total, count = 0.0, 0
        for s in range(0, order.numel(), batch_size):
            idx = order[s:s + batch_size]
            x, ei, ea, b = (t.to(device) for t in batch_molecules([graphs[int(i)] for i in idx]))
            loss = torch.mean((model(x, ei, ea, b, idx.numel()) - target[idx].to(device)) ** 2)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * idx.numel()
            count += idx.numel()
        result.train_loss.append(total / count)
        val = rmse(predict_molecules(model, val_graphs, y_mean=y_mean, y_std=y_std, device=device), y[val_idx])
        result.val_rmse.append(val)
        if val < result.best_val_rmse:
            result.best_epoch, result.best_val_rmse = epoch, val
            best_state = copy.deepcopy(model.state_dict())
    model.load_state_dict(best_state)
    result.seconds = time.perf_counter() - start
    return result


# ---------------------------------------------------------------------------------------- 5. baselines
def descriptor_features(smiles: Sequence[str], kind: str = "descriptors", radius: int = 2, num_bits: int = 2048) -> Tensor:
    """Fixed-length features of molecules for classical baselines:

    * ``kind="descriptors"``: RDKit's 2-D descriptors (``rdkit.Chem.Descriptors.CalcMolDescriptors``:
      molecular weight, Crippen logP, polar surface area, counts of rings, donors, acceptors, ...),
      with non-finite values set to 0;
    * ``kind="morgan"``: Morgan (ECFP-like) fingerprints of the given radius, ``num_bits`` bits.

    Shapes:
        returns ``(len(smiles), D)`` float64.

    Introduced in: 6.2, :doc:`/book/06_applications/06_2_molecules`.
    """
    if isinstance(smiles, str) or not hasattr(smiles, "__len__") or len(smiles) == 0:
        raise ValueError("smiles must be a non-empty list of SMILES strings")
    if kind not in ("descriptors", "morgan"):
        raise ValueError(f"kind must be 'descriptors' or 'morgan', got {kind!r}")
    require_rdkit()
    mols = [mol_from_smiles(s) for s in smiles]
    if kind == "descriptors":
        from rdkit.Chem import Descriptors

        names = [name for name, _ in Descriptors._descList]
        rows = []
        for mol in mols:
            values = Descriptors.CalcMolDescriptors(mol)
            rows.append([float(values[name]) for name in names])
        out = np.asarray(rows, dtype=np.float64)
        out[~np.isfinite(out)] = 0.0
        out = np.clip(out, -1e6, 1e6)  # a few descriptors (Ipc) overflow on large molecules
        return torch.from_numpy(out)
    from rdkit.Chem import rdFingerprintGenerator

    generator = rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=num_bits)
    return torch.from_numpy(np.stack([generator.GetFingerprintAsNumPy(m).astype(np.float64) for m in mols]))


@dataclass
class RidgeResult:
    """What :func:`fit_ridge` returns: the fitted scikit-learn pipeline (standardisation + ridge),
    the penalty chosen and the validation RMSE of every penalty tried.

    Introduced in: 6.2, :doc:`/book/06_applications/06_2_molecules`.
    """

    model: object
    alpha: float
    val_rmse: dict


def fit_ridge(features, y, train_idx, val_idx, alphas: Sequence[float] = (0.01, 0.1, 1.0, 10.0, 100.0, 1000.0, 10000.0)) -> RidgeResult:
    """Ridge regression :math:`\\min_w \\lVert Xw - y\\rVert^2 + \\alpha\\lVert w\\rVert^2` on
    standardised features (scikit-learn's ``StandardScaler`` + ``Ridge``), fitted on the training
    rows for every :math:`\\alpha` in ``alphas``; the :math:`\\alpha` with the lowest validation
    RMSE is kept.

    Shapes:
        features ``(N, D)``; y ``(N,)``; predict with ``result.model.predict(features)``.

    Introduced in: 6.2, :doc:`/book/06_applications/06_2_molecules`.
    """
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X = np.asarray(features, dtype=np.float64)
    t = np.asarray(y, dtype=np.float64).reshape(-1)
    if X.ndim != 2 or X.shape[0] != t.shape[0]:
        raise ValueError(f"features must have shape (N, D) with N = len(y) = {t.shape[0]}, got {X.shape}")
    if len(alphas) == 0 or any(not float(a) > 0 for a in alphas):
        raise ValueError(f"alphas must be a non-empty list of positive penalties, got {alphas!r}")
    tr, va = np.asarray(train_idx), np.asarray(val_idx)
    scores, best = {}, None
    for alpha in alphas:
        model = make_pipeline(StandardScaler(), Ridge(alpha=float(alpha))).fit(X[tr], t[tr])
        scores[float(alpha)] = rmse(model.predict(X[va]), t[va])
        if best is None or scores[float(alpha)] < scores[best[0]]:
            best = (float(alpha), model)
    return RidgeResult(model=best[1], alpha=best[0], val_rmse=scores)
