"""ganlab.theory's Dirac-GAN: its vector field against autograd through ganlab.losses, the
flow's invariants, the published trajectories of Mescheder et al. (2018) and the Jacobian.

Conventions: data is a point mass at 0, G a point mass at theta, D's logit psi * x; each
player descends its own loss. The paper's D scores fakes high, so its start (1, 1) is (1, -1)
here and its psi is minus ours.
"""

from __future__ import annotations

import cmath
import math

import pytest
import torch
from torch.testing import assert_close

from ganlab import losses, theory

F64 = torch.float64
GAN_G_LOSSES = {
    "saturating": losses.g_loss_saturating,
    "nonsaturating": losses.g_loss_nonsaturating,
}


def reference_field(
    theta: float,
    psi: float,
    loss: str,
    *,
    gamma: float = 0.0,
    lam: float = 0.0,
    eps_real: torch.Tensor | None = None,
    eps_fake: torch.Tensor | None = None,
) -> tuple[float, float]:
    """(-dL_G/d theta, -dL_D/d psi) by autograd through ganlab.losses, for reals eps_real
    and fakes theta + eps_fake (both 0 without instance noise); batch means are expectations."""
    zero = torch.zeros(1, dtype=F64)
    eps_real = zero if eps_real is None else eps_real
    eps_fake = zero if eps_fake is None else eps_fake
    th = torch.tensor(theta, dtype=F64, requires_grad=True)
    ps = torch.tensor(psi, dtype=F64, requires_grad=True)
    x_real, x_fake = eps_real, th + eps_fake
    if loss == "wasserstein":
        loss_D = losses.d_loss_wasserstein(ps * x_real, ps * x_fake)
        loss_G = losses.g_loss_wasserstein(ps * x_fake)
    else:
        loss_D = losses.d_loss_minimax(ps * x_real, ps * x_fake)
        loss_G = GAN_G_LOSSES[loss](ps * x_fake)
    loss_D = loss_D + gamma / 2 * ps**2 + lam * (ps.abs() - 1) ** 2
    (g_theta,) = torch.autograd.grad(loss_G, th)
    (g_psi,) = torch.autograd.grad(loss_D, ps)
    return -g_theta.item(), -g_psi.item()


def random_points(n: int, seed: int) -> torch.Tensor:
    """n points (theta, psi) with coordinates of size about 1.5, none near psi = 0."""
    points = 1.5 * torch.randn(n, 2, generator=torch.Generator().manual_seed(seed), dtype=F64)
    points[:, 1] += 0.1 * torch.sign(points[:, 1])
    return points


def norms(path: torch.Tensor) -> torch.Tensor:
    return path.norm(dim=1)


# ----------------------------------------------------------------------------- the vector field


@pytest.mark.parametrize("loss", theory.DIRAC_LOSSES)
@pytest.mark.parametrize(("gamma", "lam"), [(0.0, 0.0), (0.5, 0.0), (0.0, 0.35), (0.3, 0.6)])
def test_field_is_minus_each_players_gradient_of_its_own_loss(loss, gamma, lam):
    """At 25 random (theta, psi): the field equals autograd through losses.d_loss_* / g_loss_*."""
    points = random_points(25, seed=1)
    d_theta, d_psi = theory.dirac_vector_field(
        points[:, 0], points[:, 1], loss, gamma=gamma, lam=lam
    )
    expected = torch.tensor(
        [reference_field(t, p, loss, gamma=gamma, lam=lam) for t, p in points.tolist()], dtype=F64
    )
    assert d_theta.dtype == d_psi.dtype == F64
    assert_close(d_theta, expected[:, 0], rtol=1e-12, atol=1e-12)
    assert_close(d_psi, expected[:, 1], rtol=1e-12, atol=1e-12)


def test_field_closed_forms_from_the_docstring():
    """(psi s, -theta s), (psi (1 - s), -theta s), (psi, -theta), s = sigmoid(psi theta)."""
    theta, psi = torch.meshgrid(
        torch.linspace(-2, 2, 9, dtype=F64), torch.linspace(-2, 2, 7, dtype=F64), indexing="ij"
    )
    s = torch.sigmoid(psi * theta)
    expected = {
        "saturating": (psi * s, -theta * s),
        "nonsaturating": (psi * (1 - s), -theta * s),
        "wasserstein": (psi, -theta),
    }
    for loss, (e_theta, e_psi) in expected.items():
        d_theta, d_psi = theory.dirac_vector_field(theta, psi, loss)
        assert d_theta.shape == d_psi.shape == (9, 7)
        assert_close(d_theta, e_theta, rtol=1e-14, atol=1e-14)
        assert_close(d_psi, e_psi, rtol=1e-14, atol=1e-14)


def test_field_takes_plain_floats_and_broadcasts():
    d_theta, d_psi = theory.dirac_vector_field(1.0, -1.0)
    assert d_theta.shape == () and d_theta.dtype == F64
    assert_close(d_theta.item(), -1 / (1 + math.e))  # psi sigmoid(psi theta) = -sigmoid(-1)
    d_theta, d_psi = theory.dirac_vector_field(torch.zeros(3, 1), torch.ones(4))
    assert d_theta.shape == d_psi.shape == (3, 4)


NOISE_POINTS = [(1.0, -1.0), (0.5, 2.0), (-1.5, 0.7), (0.3, -2.5)]


@pytest.mark.parametrize("loss", theory.DIRAC_LOSSES)
def test_instance_noise_field_is_the_expected_gradient_monte_carlo(loss):
    """With noise_std = s: reals eps1, fakes theta + eps2 (eps ~ N(0, s^2)). The field agrees
    with the mean of autograd gradients over 200k draws (20 batches of 10k, fixed seed) to
    5 standard errors of that mean, estimated from the spread of the batch means."""
    s, batches, size = 0.7, 20, 10_000
    generator = torch.Generator().manual_seed(0)
    for theta, psi in NOISE_POINTS:
        estimates = torch.tensor(
            [
                reference_field(
                    theta,
                    psi,
                    loss,
                    gamma=0.2,
                    eps_real=s * torch.randn(size, generator=generator, dtype=F64),
                    eps_fake=s * torch.randn(size, generator=generator, dtype=F64),
                )
                for _ in range(batches)
            ],
            dtype=F64,
        )
        mean, stderr = estimates.mean(0), estimates.std(0) / math.sqrt(batches)
        field = torch.stack(theory.dirac_vector_field(theta, psi, loss, gamma=0.2, noise_std=s))
        assert bool(((field - mean).abs() <= 5 * stderr + 1e-9).all()), (theta, psi, field, mean)
        if loss != "wasserstein":  # the noise matters: the noiseless field is far off
            noiseless = torch.stack(theory.dirac_vector_field(theta, psi, loss, gamma=0.2))
            assert float((noiseless - mean).abs().max()) > 20 * float(stderr.max())


def test_field_rejects_unknown_loss_and_bad_strengths_naming_them():
    with pytest.raises(ValueError, match="unknown Dirac-GAN loss 'hinge'"):
        theory.dirac_vector_field(1.0, 1.0, "hinge")
    for name in ("gamma", "lam", "noise_std"):
        for value in (-0.5, float("nan"), float("inf")):
            with pytest.raises(
                ValueError, match=f"{name} must be a finite number >= 0, got {value}"
            ):
                theory.dirac_vector_field(1.0, 1.0, **{name: value})


# ----------------------------------------------------------------------------- invariants


GRID_THETA, GRID_PSI = torch.meshgrid(
    torch.linspace(-3, 3, 25, dtype=F64), torch.linspace(-3, 3, 25, dtype=F64), indexing="ij"
)


@pytest.mark.parametrize("loss", ["saturating", "wasserstein"])
def test_unregularised_flow_conserves_the_squared_distance(loss):
    """d/dt (theta^2 + psi^2) = 2 (theta dtheta + psi dpsi) = 0: the flow circles (0, 0)."""
    d_theta, d_psi = theory.dirac_vector_field(GRID_THETA, GRID_PSI, loss)
    rate = 2 * (GRID_THETA * d_theta + GRID_PSI * d_psi)
    assert_close(rate, torch.zeros_like(rate), rtol=0, atol=1e-13)


def test_nonsaturating_flow_does_not_conserve_the_squared_distance():
    """Its rate is 2 theta psi (1 - 2 sigmoid(theta psi)) <= 0, < 0 off the axes."""
    d_theta, d_psi = theory.dirac_vector_field(GRID_THETA, GRID_PSI, "nonsaturating")
    rate = 2 * (GRID_THETA * d_theta + GRID_PSI * d_psi)
    product = GRID_THETA * GRID_PSI
    assert_close(rate, 2 * product * (1 - 2 * torch.sigmoid(product)), rtol=1e-12, atol=1e-14)
    assert bool((rate[product != 0] < 0).all())


@pytest.mark.parametrize("loss", ["saturating", "wasserstein"])
@pytest.mark.parametrize("gamma", [0.1, 1.0])
def test_r1_makes_the_squared_distance_decrease_where_psi_is_not_zero(loss, gamma):
    """With the penalty the rate is -2 gamma psi^2: <= 0 everywhere, < 0 where psi != 0."""
    d_theta, d_psi = theory.dirac_vector_field(GRID_THETA, GRID_PSI, loss, gamma=gamma)
    rate = 2 * (GRID_THETA * d_theta + GRID_PSI * d_psi)
    assert_close(rate, -2 * gamma * GRID_PSI**2, rtol=1e-12, atol=1e-13)
    assert bool((rate[GRID_PSI != 0] < 0).all())
    assert bool((rate <= 1e-13).all())


def test_one_simultaneous_step_multiplies_the_squared_norm_by_1_plus_h2_sigmoid2():
    """||.||^2 <- (1 + h^2 sigmoid(psi theta)^2) ||.||^2 for the saturating loss; 1 + h^2 for
    WGAN. From (1, -1), h = 0.2: 1.0028932, the paper's ratio at its (1, 1)."""
    h = 0.2
    for theta, psi in [(1.0, -1.0), *random_points(10, seed=3).tolist()]:
        start = theta**2 + psi**2
        for loss, factor in [
            ("saturating", 1 + h**2 / (1 + math.exp(-psi * theta)) ** 2),
            ("wasserstein", 1 + h**2),
        ]:
            path = theory.dirac_trajectory((theta, psi), loss, step_size=h, steps=1)
            assert_close(float(path[1].pow(2).sum()) / start, factor, rtol=1e-13, atol=0)
    path = theory.dirac_trajectory((1.0, -1.0), step_size=h, steps=1)
    assert round(float(path[1].pow(2).sum()) / 2, 7) == 1.0028932


# ----------------------------------------------------------------------------- trajectories


def paper_trajectory(
    loss: str, scheme: str, d_steps: int = 1, h: float = 0.2, steps: int = 500
) -> torch.Tensor:
    """The official demo's updates in plain floats, in the paper's convention (D scores fakes
    high, start (1, 1)): v = (-psi f'(psi theta), theta f'(psi theta)) with f'(t) = sigmoid(-t)
    (NSGAN: -psi f'(-psi theta) for theta). Returned with psi's sign flipped to ours."""

    def sig(t: float) -> float:
        return 1 / (1 + math.exp(-t))

    def v_theta(theta: float, psi: float) -> float:
        return -psi * (sig(-psi * theta) if loss == "saturating" else sig(psi * theta))

    def v_psi(theta: float, psi: float) -> float:
        return theta * sig(-psi * theta)

    theta, psi = 1.0, 1.0
    rows = [(theta, -psi)]
    for _ in range(steps):
        if scheme == "simultaneous":
            theta, psi = theta + h * v_theta(theta, psi), psi + h * v_psi(theta, psi)
        else:
            theta = theta + h * v_theta(theta, psi)
            for _ in range(d_steps):
                psi = psi + h * v_psi(theta, psi)
        rows.append((theta, -psi))
    return torch.tensor(rows, dtype=F64)


@pytest.mark.parametrize(
    ("loss", "scheme", "d_steps"),
    [
        ("saturating", "simultaneous", 1),
        ("saturating", "alternating", 1),
        ("saturating", "alternating", 5),
        ("nonsaturating", "simultaneous", 1),
        ("nonsaturating", "alternating", 1),
    ],
)
def test_trajectory_matches_the_official_demo_updates(loss, scheme, d_steps):
    """Whole 150-step paths, including the order of alternating updates (G first, then D)."""
    path = theory.dirac_trajectory(loss=loss, scheme=scheme, d_steps=d_steps, steps=150)
    expected = paper_trajectory(loss, scheme, d_steps, steps=150)
    assert_close(path, expected, rtol=1e-10, atol=1e-10)


# ||(theta, psi)|| at steps 250 and 500 (paper_numbers.md, section 3.4), h = 0.2, start (1, -1).
PUBLISHED = [
    ("saturating", "simultaneous", {}, (2.65, 3.10)),
    ("nonsaturating", "simultaneous", {}, (0.66, 0.64)),
    ("nonsaturating", "alternating", {}, (0.39, 0.28)),
    ("wasserstein", "simultaneous", {"clip": 1.0}, (1.10, 1.00)),
    ("wasserstein", "alternating", {"clip": 1.0}, (1.04, 1.02)),
    ("wasserstein", "simultaneous", {"lam": 0.35}, (1.68, 1.80)),
    ("wasserstein", "alternating", {"lam": 0.35}, (1.39, 1.22)),
]


@pytest.mark.parametrize(("loss", "scheme", "kwargs", "expected"), PUBLISHED)
def test_published_distances_at_steps_250_and_500(loss, scheme, kwargs, expected):
    path = theory.dirac_trajectory((1.0, -1.0), loss, scheme=scheme, step_size=0.2, steps=500,
                                   **kwargs)  # fmt: skip
    assert path.shape == (501, 2)
    r = norms(path)
    assert_close(r[250].item(), expected[0], rtol=0, atol=0.01)
    assert_close(r[500].item(), expected[1], rtol=0, atol=0.01)


def test_saturating_alternating_neither_diverges_nor_converges():
    """1.414 -> 1.418 -> 1.421 (steps 0, 250, 500), and in between ||.|| only oscillates
    (between about 1.34 and 1.42: alternating GD keeps a modified quadratic, not the norm)."""
    r = norms(theory.dirac_trajectory(scheme="alternating"))
    assert_close(r[250].item(), 1.418, rtol=0, atol=0.001)
    assert_close(r[500].item(), 1.421, rtol=0, atol=0.001)
    assert 1.33 < float(r.min()) and float(r.max()) < 1.43


@pytest.mark.parametrize("scheme", theory.DIRAC_SCHEMES)
@pytest.mark.parametrize(
    ("kwargs", "tol"), [({"gamma": 0.3}, 1e-4), ({"gamma": 1.0}, 1e-4), ({"noise_std": 0.7}, 1e-3)]
)
def test_zero_centred_penalties_and_instance_noise_converge(scheme, kwargs, tol):
    r = norms(theory.dirac_trajectory(scheme=scheme, **kwargs))
    assert float(r[500]) < tol
    assert float(r[500]) < float(r[250]) < float(r[0])


def test_trajectory_shape_dtype_and_start():
    path = theory.dirac_trajectory((0.5, 2.0), "nonsaturating", steps=7)
    assert path.shape == (8, 2) and path.dtype == F64
    assert path[0].tolist() == [0.5, 2.0]
    # one simultaneous step is start + h * field(start)
    d_theta, d_psi = theory.dirac_vector_field(0.5, 2.0, "nonsaturating")
    assert_close(
        path[1], torch.tensor([0.5 + 0.2 * d_theta.item(), 2.0 + 0.2 * d_psi.item()]).double()
    )


def test_alternating_d_steps_change_the_path():
    one = theory.dirac_trajectory(scheme="alternating", steps=20, d_steps=1)
    five = theory.dirac_trajectory(scheme="alternating", steps=20, d_steps=5)
    assert torch.equal(one[0], five[0])
    assert float((one[1:] - five[1:]).abs().max()) > 1e-2
    # d_steps only matters for alternating updates
    sim = theory.dirac_trajectory(steps=20)
    assert torch.equal(sim, theory.dirac_trajectory(steps=20, d_steps=5))


@pytest.mark.parametrize("scheme", theory.DIRAC_SCHEMES)
@pytest.mark.parametrize("loss", ["wasserstein", "saturating"])
def test_clip_keeps_psi_within_the_clip_at_every_row(scheme, loss):
    path = theory.dirac_trajectory((1.5, -0.2), loss, scheme=scheme, steps=200, clip=0.5)
    assert float(path[:, 1].abs().max()) <= 0.5
    assert float(path[:, 1].abs().max()) == 0.5  # it binds: without it |psi| goes higher
    free = theory.dirac_trajectory((1.5, -0.2), loss, scheme=scheme, steps=200)
    assert float(free[:, 1].abs().max()) > 0.5


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"loss": "hinge"}, "unknown Dirac-GAN loss 'hinge'"),
        ({"scheme": "sequential"}, "unknown update scheme 'sequential'"),
        ({"gamma": -0.1}, "gamma must be a finite number >= 0, got -0.1"),
        ({"lam": -1.0}, "lam must be a finite number >= 0, got -1.0"),
        ({"noise_std": -0.7}, "noise_std must be a finite number >= 0, got -0.7"),
        ({"step_size": 0.0}, "step_size must be a positive finite number, got 0.0"),
        ({"step_size": -0.2}, "step_size must be a positive finite number, got -0.2"),
        ({"steps": 0}, "steps must be a positive integer, got 0"),
        ({"steps": 2.5}, "steps must be a positive integer, got 2.5"),
        ({"d_steps": 0}, "d_steps must be a positive integer, got 0"),
        ({"clip": 0.0}, "clip must be a positive finite number, got 0.0"),
        ({"start": (1.0,)}, r"start must be a finite pair \(theta, psi\), got \(1.0,\)"),
        ({"start": (1.0, 2.0, 3.0)}, r"got \(1.0, 2.0, 3.0\)"),
        ({"start": (1.0, float("nan"))}, r"got \(1.0, nan\)"),
    ],
)
def test_trajectory_errors_name_the_bad_value(kwargs, message):
    with pytest.raises(ValueError, match=message):
        theory.dirac_trajectory(**{"steps": 5, **kwargs})


# ----------------------------------------------------------------------------- the Jacobian


def by_real_then_imag(values) -> list[complex]:
    return sorted((complex(v) for v in values), key=lambda z: (round(z.real, 9), z.imag))


def assert_same_complex(a, b, tol: float) -> None:
    a, b = by_real_then_imag(a), by_real_then_imag(b)
    assert len(a) == len(b) == 2
    assert all(abs(x - y) <= tol for x, y in zip(a, b, strict=True)), (a, b)


@pytest.mark.parametrize("gamma", [0.0, 0.3, 1.0, 2.0])
def test_jacobian_eigenvalues_with_r1_follow_the_closed_form(gamma):
    """J = [[0, 1/2], [-1/2, -gamma]]; eigenvalues -gamma/2 +- sqrt(gamma^2/4 - 1/4)."""
    jac = theory.dirac_jacobian(gamma=gamma)
    assert jac.shape == (2, 2) and jac.dtype == F64
    assert_close(jac, torch.tensor([[0.0, 0.5], [-0.5, -gamma]], dtype=F64), rtol=0, atol=1e-14)
    root = cmath.sqrt(gamma**2 / 4 - 1 / 4)
    formula = [-gamma / 2 + root, -gamma / 2 - root]
    # gamma = 1 is a double eigenvalue of a defective J: eigvals is accurate to sqrt(eps) there
    tol = 1e-6 if gamma == 1.0 else 1e-12
    assert_same_complex(torch.linalg.eigvals(jac).tolist(), formula, tol)
    assert_same_complex(theory.dirac_eigenvalues(gamma), formula, 1e-15)


def test_jacobian_eigenvalues_published_values():
    """gamma = 0: +-0.5i (a pure rotation); 0.3: -0.15 +- 0.477i; 2: -0.134 and -1.866."""
    zero = torch.linalg.eigvals(theory.dirac_jacobian()).tolist()
    assert all(abs(z.real) < 1e-15 for z in zero)
    assert_same_complex(zero, [0.5j, -0.5j], 1e-15)
    assert_same_complex(theory.dirac_eigenvalues(0.3), [-0.15 + 0.477j, -0.15 - 0.477j], 1e-3)
    assert_same_complex(theory.dirac_eigenvalues(2.0), [-0.134, -1.866], 1e-3)


def test_jacobian_eigenvalues_with_instance_noise():
    """f''(0) s^2 +- sqrt(f''(0)^2 s^4 - f'(0)^2) = -0.1225 +- 0.485i for s = 0.7."""
    eig = torch.linalg.eigvals(theory.dirac_jacobian(noise_std=0.7)).tolist()
    assert_same_complex(eig, [-0.1225 + 0.485j, -0.1225 - 0.485j], 1e-3)
    exact = -0.25 * 0.49 + cmath.sqrt(0.25**2 * 0.7**4 - 0.25)
    assert_same_complex(eig, [exact, exact.conjugate()], 1e-9)


def test_jacobian_of_the_other_losses():
    """Non-saturating: the same J as saturating at (0, 0); WGAN: [[0, 1], [-1, 0]]."""
    assert_close(theory.dirac_jacobian("nonsaturating"), theory.dirac_jacobian("saturating"))
    assert_close(
        theory.dirac_jacobian("wasserstein"), torch.tensor([[0.0, 1.0], [-1.0, 0.0]], dtype=F64)
    )


def test_dirac_eigenvalues_rejects_negative_r1():
    with pytest.raises(ValueError, match="gamma must be >= 0, got -1"):
        theory.dirac_eigenvalues(-1)


def test_dirac_registries():
    assert theory.DIRAC_LOSSES == ("saturating", "nonsaturating", "wasserstein")
    assert theory.DIRAC_SCHEMES == ("simultaneous", "alternating")
