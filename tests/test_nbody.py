"""gdlutils.nbody: the vectorised simulator agrees with a plain step-by-step reference written
like the original code, is deterministic, like charges repel, the fast force routine equals
the readable one, the cache is written atomically, and the linear baseline scores what the
paper's data gives."""
import numpy as np
import pytest
import torch

from gdlutils import _fast_equivariant as fast
from gdlutils import nbody
from gdlutils.equivariant import LinearDynamics, nbody_mse


def reference_trajectory(loc, vel, charges, num_steps, sample_every, dt=1e-3, max_force=100.0):
    """One system, one step at a time, in the (dim, n) layout of Kipf et al.'s simulator."""
    loc, vel = loc.T.copy(), vel.T.copy()  # (dim, n)
    n = loc.shape[1]
    edges = np.outer(charges, charges)

    def force(loc):
        out = np.zeros_like(loc)
        for i in range(n):
            for j in range(n):
                if i != j:
                    r = loc[:, i] - loc[:, j]
                    out[:, i] += edges[i, j] * r / np.sqrt((r ** 2).sum()) ** 3
        return np.clip(out, -max_force, max_force)

    frames = []
    vel = vel + dt * force(loc)
    for i in range(1, num_steps):
        loc = loc + dt * vel
        if i % sample_every == 0:
            frames.append((loc.T.copy(), vel.T.copy()))
        vel = vel + dt * force(loc)
    return frames


def test_simulator_matches_step_by_step_reference():
    sim = nbody.simulate_charged(4, num_steps=600, sample_every=100, seed=3)
    assert sim["loc"].shape == (4, 5, 5, 3)
    rng = np.random.default_rng(3)  # the same draws, in the same order, as the simulator
    q = rng.choice(np.array([-1.0, 1.0]), size=(4, 5))
    x0 = rng.standard_normal((4, 5, 3))
    v0 = rng.standard_normal((4, 5, 3))
    v0 = v0 * 0.5 / np.linalg.norm(v0, axis=-1, keepdims=True)
    assert np.array_equal(sim["charges"].numpy(), q)
    for s in range(4):
        frames = reference_trajectory(x0[s], v0[s], q[s], 600, 100)
        assert len(frames) == 5
        for k, (loc, vel) in enumerate(frames):
            np.testing.assert_allclose(sim["loc"][s, k].numpy(), loc, atol=1e-9)
            np.testing.assert_allclose(sim["vel"][s, k].numpy(), vel, atol=1e-9)


def test_initial_speed_and_charges():
    sim = nbody.simulate_charged(300, num_steps=200, sample_every=100, seed=0, max_force=None)
    assert set(sim["charges"].unique().tolist()) == {-1.0, 1.0}
    assert abs(float((sim["charges"] > 0).double().mean()) - 0.5) < 0.05
    # after 100 steps of dt = 1e-3 speeds are still close to 0.5 for most particles
    speed = sim["vel"][:, 0].norm(dim=-1)
    assert float(speed.median()) == pytest.approx(0.5, abs=0.05)


def test_simulator_is_deterministic_and_frames_select():
    a = nbody.simulate_charged(6, num_steps=500, sample_every=100, seed=7)
    b = nbody.simulate_charged(6, num_steps=500, sample_every=100, seed=7, frames=[1, 3])
    c = nbody.simulate_charged(6, num_steps=500, sample_every=100, seed=8)
    assert torch.equal(a["loc"][:, [1, 3]], b["loc"]) and torch.equal(a["vel"][:, [1, 3]], b["vel"])
    assert not torch.equal(a["loc"], c["loc"])


def test_like_charges_repel_opposite_attract():
    loc = torch.tensor([[[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]]], dtype=torch.float64)
    for q, sign in [((1.0, 1.0), -1), ((-1.0, -1.0), -1), ((1.0, -1.0), 1)]:
        f = nbody.coulomb_forces(loc, torch.tensor([q], dtype=torch.float64))
        # force on particle 0 points away from particle 1 (negative x) when they repel
        assert torch.allclose(f[0, 0], torch.tensor([sign * 1.0, 0.0, 0.0], dtype=torch.float64))
        assert torch.allclose(f[0, 0], -f[0, 1])  # Newton's third law
    # the clip acts per component
    close = torch.tensor([[[0.0, 0.0, 0.0], [0.01, 0.02, 0.0]]], dtype=torch.float64)
    f = nbody.coulomb_forces(close, torch.tensor([[1.0, 1.0]], dtype=torch.float64))
    assert f.abs().max() == 100.0


def test_fast_forces_equal_readable():
    g = torch.Generator().manual_seed(0)
    loc = torch.randn(50, 5, 3, generator=g, dtype=torch.float64)
    q = torch.randint(0, 2, (50, 5), generator=g).to(torch.float64) * 2 - 1
    for max_force in (100.0, 1.0, None):
        ref = nbody.coulomb_forces(loc, q, max_force)
        out = fast.PairForces(q, max_force)(loc.permute(1, 2, 0).contiguous()).permute(2, 0, 1)
        assert torch.allclose(ref, out, atol=1e-12)


def test_bad_input():
    with pytest.raises(ValueError, match="num_simulations"):
        nbody.simulate_charged(0)
    with pytest.raises(ValueError, match="frames"):
        nbody.simulate_charged(2, num_steps=300, sample_every=100, frames=[5])
    with pytest.raises(ValueError, match="no frame"):
        nbody.simulate_charged(2, num_steps=150, sample_every=100)
    with pytest.raises(ValueError, match="charges"):
        nbody.coulomb_forces(torch.zeros(2, 5, 3), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="num_test"):
        nbody.load_nbody(num_test=-1)


def test_cache_is_written_atomically_and_reloaded(tmp_path, monkeypatch):
    monkeypatch.setenv("GDL_CACHE", str(tmp_path))
    monkeypatch.setattr(nbody, "make_nbody", lambda total, seed: _small(total, seed))
    first = nbody.load_nbody(5, 3, 2, seed=1)
    files = list((tmp_path / "nbody").iterdir())
    assert [f.suffix for f in files] == [".pt"]  # no temporary file left behind
    monkeypatch.setattr(nbody, "make_nbody", lambda total, seed: pytest.fail("should load from the cache"))
    again = nbody.load_nbody(5, 3, 2, seed=1)
    assert [len(first[k]) for k in ("train", "val", "test")] == [5, 3, 2]
    for k in first:
        assert torch.equal(first[k].loc, again[k].loc) and torch.equal(first[k].target, again[k].target)


def _small(total, seed):
    sim = nbody.simulate_charged(total, num_steps=400, sample_every=100, frames=[0, 2], seed=seed)
    return nbody.NBodyData(sim["loc"][:, 0], sim["vel"][:, 0], sim["charges"], sim["loc"][:, 1])


def test_linear_baseline_error_on_the_task():
    """The fitted straight line scores about 0.082-0.088 (the paper: 0.0819), t about 0.74."""
    data = nbody.make_nbody(1000, seed=123)
    model = LinearDynamics().fit(data[:500])
    assert 0.70 < model.time.item() < 0.78
    mse = nbody_mse(model, data[500:])
    assert 0.07 < mse < 0.10
    assert nbody_mse(LinearDynamics(1.0), data[500:]) > mse * 1.1  # t = 1 is clearly worse
