"""Bundle-adjustment reprojection error, per observation, as the published AD benchmark suites use it.

A camera has 11 parameters: a rotation as a Rodrigues vector (3), a
translation (3), the focal length (1), the principal point (2) and two radial
distortion coefficients (2). An observation pairs a camera with a 3-D point
(3) and the 2-D feature where the point was seen; its residual is the
projected point minus the feature (2 numbers). The suites' form differs only
in placing the camera by its centre and weighting each residual; here the
point is moved by ``R X + t`` and there are no weights.

The benchmark is the Jacobian of the 1,000 residuals, computed per observation
(2 x 14 each, the blocks of the sparse Jacobian): ``ba_objective`` computes every
residual, ``ba_jacobian_*`` every block.
"""
from __future__ import annotations

import numpy as np


def ba_residual(cam, X, feat):
    """The 2 residuals of one observation: rotate (Rodrigues), translate, divide, distort, scale."""
    r0, r1, r2 = cam[0], cam[1], cam[2]
    theta = np.sqrt(r0 * r0 + r1 * r1 + r2 * r2)
    if theta > 1e-12:
        c, s = np.cos(theta), np.sin(theta)
        w0, w1, w2 = r0 / theta, r1 / theta, r2 / theta
        t = (w0 * X[0] + w1 * X[1] + w2 * X[2]) * (1.0 - c)
        y0 = X[0] * c + (w1 * X[2] - w2 * X[1]) * s + w0 * t
        y1 = X[1] * c + (w2 * X[0] - w0 * X[2]) * s + w1 * t
        y2 = X[2] * c + (w0 * X[1] - w1 * X[0]) * s + w2 * t
    else:
        y0 = X[0] + r1 * X[2] - r2 * X[1]
        y1 = X[1] + r2 * X[0] - r0 * X[2]
        y2 = X[2] + r0 * X[1] - r1 * X[0]
    u = (y0 + cam[3]) / (y2 + cam[5])
    v = (y1 + cam[4]) / (y2 + cam[5])
    rsq = u * u + v * v
    scale = 1.0 + cam[9] * rsq + cam[10] * rsq * rsq
    return np.array([cam[6] * scale * u + cam[7] - feat[0], cam[6] * scale * v + cam[8] - feat[1]])


def ba_seeded(cam, X, feat, seed):
    """``seed . residual``: its gradient is the vector-Jacobian product with ``seed``."""
    res = ba_residual(cam, X, feat)
    return seed[0] * res[0] + seed[1] * res[1]


def ba_objective(cams, points, feats, cam_of, point_of):
    """All residuals, (m, 2)."""
    out = np.empty((feats.shape[0], 2))
    for j in range(feats.shape[0]):
        out[j] = ba_residual(cams[cam_of[j]], points[point_of[j]], feats[j])
    return out


def per_observation(block):
    """A Jacobian of all observations from ``block(cam, X, feat) -> (2, 14)``: (m, 2, 14)."""
    def jacobian(cams, points, feats, cam_of, point_of):
        out = np.empty((feats.shape[0], 2, 14))
        for j in range(feats.shape[0]):
            out[j] = block(cams[cam_of[j]], points[point_of[j]], feats[j])
        return (out,)
    return jacobian


def numerical_block(cam, X, feat, eps=1e-6):
    """Central differences of ``ba_residual`` in its 14 inputs: the reference."""
    z = np.concatenate((cam, X))
    cols = []
    for e in np.eye(14) * eps:
        hi, lo = z + e, z - e
        cols.append((ba_residual(hi[:11], hi[11:], feat) - ba_residual(lo[:11], lo[11:], feat)) / (2 * eps))
    return np.stack(cols, axis=1)


def ba_data(m):
    """(cams, points, feats, cam_of, point_of): 20 cameras, 200 points, ``m`` observations."""
    rng = np.random.default_rng(4)
    cams = np.concatenate((rng.normal(size=(20, 3)) * 0.3, rng.normal(size=(20, 2)) * 0.1,
                           5.0 + rng.random((20, 1)), 1.0 + 0.1 * rng.random((20, 1)),
                           rng.normal(size=(20, 2)) * 0.01, rng.normal(size=(20, 2)) * 0.01), axis=1)
    points = rng.normal(size=(200, 3))
    feats = rng.normal(size=(m, 2)) * 0.2
    return cams, points, feats, rng.integers(0, 20, m), rng.integers(0, 200, m)


# -- peers ---------------------------------------------------------------------------------------
def residual_with(xp, stack):
    """``ba_residual`` against an array module, without the branch for a zero rotation (jax.vmap
    and torch.func.vmap trace it once for all observations; no observation here has one)."""
    def residual(cam, X, feat):
        theta = xp.sqrt(cam[0] * cam[0] + cam[1] * cam[1] + cam[2] * cam[2])
        c, s = xp.cos(theta), xp.sin(theta)
        w0, w1, w2 = cam[0] / theta, cam[1] / theta, cam[2] / theta
        t = (w0 * X[0] + w1 * X[1] + w2 * X[2]) * (1.0 - c)
        y0 = X[0] * c + (w1 * X[2] - w2 * X[1]) * s + w0 * t
        y1 = X[1] * c + (w2 * X[0] - w0 * X[2]) * s + w1 * t
        y2 = X[2] * c + (w0 * X[1] - w1 * X[0]) * s + w2 * t
        u = (y0 + cam[3]) / (y2 + cam[5])
        v = (y1 + cam[4]) / (y2 + cam[5])
        rsq = u * u + v * v
        scale = 1.0 + cam[9] * rsq + cam[10] * rsq * rsq
        return stack([cam[6] * scale * u + cam[7] - feat[0], cam[6] * scale * v + cam[8] - feat[1]])
    return residual


def adjoint_block(backend):
    """One observation's 2 x 14 block: ``adjoint.jacobian`` (NumPy), or on Numba the gradient of
    ``seed . residual`` for each of the two unit seeds (``jacobian`` has no backend choice)."""
    import adjoint
    if backend == "numpy":
        jac = adjoint.jacobian(ba_residual, wrt=(0, 1))
        return lambda cam, X, feat: np.concatenate(jac(cam, X, feat), axis=1)
    g = adjoint.grad(ba_seeded, wrt=(0, 1), backend=backend)
    seeds = np.eye(2)

    def block(cam, X, feat):
        return np.stack([np.concatenate(g(cam, X, feat, e)) for e in seeds])
    return block


def autograd_block():
    import autograd
    import autograd.numpy as anp
    residual = residual_with(anp, anp.stack)
    jac = autograd.jacobian(lambda z, feat: residual(z[:11], z[11:], feat))
    return lambda cam, X, feat: jac(np.concatenate((cam, X)), feat)


def _gathered(fun):
    """``fun(cams, points, feats)`` over the observations' own cameras and points."""
    def call(cams, points, feats, cam_of, point_of):
        return fun(cams[cam_of], points[point_of], feats)
    return call


def jax_jacobian():
    """``jit(vmap(jacrev))``: per observation, batched over all of them in one compiled call."""
    import jax
    import jax.numpy as jnp
    block = jax.jit(jax.vmap(jax.jacrev(residual_with(jnp, jnp.stack), (0, 1))))

    def jacobian(cams, points, feats):
        a, b = block(cams, points, feats)
        return (np.concatenate((np.asarray(a), np.asarray(b)), axis=2),)
    return _gathered(jacobian)


def jax_objective():
    import jax
    import jax.numpy as jnp
    fun = jax.jit(jax.vmap(residual_with(jnp, jnp.stack)))
    return _gathered(lambda c, p, f: np.asarray(fun(c, p, f)))


def torch_jacobian():
    """``torch.func.vmap(torch.func.jacrev)`` over all observations."""
    import torch
    block = torch.func.vmap(torch.func.jacrev(residual_with(torch, torch.stack), (0, 1)))

    def jacobian(cams, points, feats):
        a, b = block(*(torch.from_numpy(np.ascontiguousarray(t)) for t in (cams, points, feats)))
        return (torch.cat((a, b), 2).numpy(),)
    return _gathered(jacobian)


def torch_objective():
    import torch
    fun = torch.func.vmap(residual_with(torch, torch.stack))

    def objective(cams, points, feats):
        with torch.no_grad():
            return fun(*(torch.from_numpy(np.ascontiguousarray(t)) for t in (cams, points, feats))).numpy()
    return _gathered(objective)
