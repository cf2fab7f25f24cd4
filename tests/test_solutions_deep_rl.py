"""solutions_lib.deep_rl against definitions, enumeration of all trajectories and autograd (chapter 16)."""
from __future__ import annotations

import itertools

import pytest
import torch

from course.envs.imitation import WindyLine
from solutions_lib import deep_rl as ref

F64 = torch.float64


def _gen(seed):
    return torch.Generator().manual_seed(seed)


# ----------------------------------------------------------------------------- returns

@pytest.mark.parametrize("dtype", [torch.float32, F64])
def test_rewards_to_go_matches_sum_and_returns(dtype):
    r = torch.randn(3, 9, generator=_gen(0), dtype=F64).to(dtype)
    gamma = 0.9
    G = ref.rewards_to_go(r, gamma)
    assert G.dtype == dtype and G.shape == r.shape
    for t in range(9):
        direct = sum(gamma ** (k - t) * r[:, k].double() for k in range(t, 9))
        torch.testing.assert_close(G[:, t].double(), direct, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(G[..., 0], ref.discounted_returns(r, gamma))


def test_discounted_returns_edge_cases():
    r = torch.tensor([2.0, 5.0, -1.0], dtype=F64)
    assert ref.discounted_returns(r, 0.0).item() == 2.0
    assert ref.discounted_returns(r, 1.0).item() == 6.0
    assert ref.discounted_returns(torch.zeros(4, 0, dtype=F64), 0.9).shape == (4,)


# ----------------------------------------------------------------------------- policy gradients

def _mdp(seed, S=3, A=2, T=2):
    g = _gen(seed)
    rho = torch.softmax(torch.randn(S, generator=g, dtype=F64), 0)
    trans = torch.softmax(2 * torch.randn(S, A, S, generator=g, dtype=F64), -1)
    reward = torch.randn(S, A, generator=g, dtype=F64)
    logits = torch.randn(S, A, generator=g, dtype=F64)
    th = logits.clone().requires_grad_(True)
    logp = torch.log_softmax(th, -1)
    rows = []
    for ss in itertools.product(range(S), repeat=T):
        for aa in itertools.product(range(A), repeat=T):
            p = rho[ss[0]] * torch.exp(sum(logp[s, a] for s, a in zip(ss, aa)))
            for t in range(T - 1):
                p = p * trans[ss[t], aa[t], ss[t + 1]]
            rows.append((ss, aa, [reward[s, a] for s, a in zip(ss, aa)], p))
    states = torch.tensor([r[0] for r in rows])
    actions = torch.tensor([r[1] for r in rows])
    rewards = torch.tensor([r[2] for r in rows], dtype=F64)
    probs = torch.stack([r[3] for r in rows])
    J = (probs * rewards.sum(-1)).sum()
    (grad,) = torch.autograd.grad(J, th)
    return logits, states, actions, rewards, probs.detach(), grad


@pytest.mark.parametrize("seed,shape", [(0, (3, 2, 2)), (1, (2, 3, 3)), (2, (2, 2, 4))])
def test_estimators_are_unbiased_by_enumeration(seed, shape):
    logits, states, actions, rewards, probs, grad = _mdp(seed, *shape)
    assert abs(probs.sum().item() - 1.0) < 1e-12
    torch.testing.assert_close(ref.reinforce_gradient(logits, states, actions, rewards, weights=probs), grad)
    torch.testing.assert_close(ref.reward_to_go_gradient(logits, states, actions, rewards, weights=probs), grad)
    base = torch.randn(shape[0], generator=_gen(seed + 10), dtype=F64) * 5
    torch.testing.assert_close(
        ref.reward_to_go_gradient(logits, states, actions, rewards, baseline=base, weights=probs), grad)


def test_reinforce_matches_autograd_surrogate():
    g = _gen(3)
    logits = torch.randn(4, 3, generator=g, dtype=F64)
    states = torch.randint(4, (16, 5), generator=g)
    actions = torch.randint(3, (16, 5), generator=g)
    rewards = torch.randn(16, 5, generator=g, dtype=F64)
    th = logits.clone().requires_grad_(True)
    logp = torch.log_softmax(th, -1)[states].gather(-1, actions[..., None]).squeeze(-1)
    surrogate = (rewards.sum(-1, keepdim=True) * logp).sum() / 16
    (grad,) = torch.autograd.grad(surrogate, th)
    torch.testing.assert_close(ref.reinforce_gradient(logits, states, actions, rewards), grad)
    rtg = ref.rewards_to_go(rewards, 1.0)
    (grad2,) = torch.autograd.grad((rtg * torch.log_softmax(th, -1)[states].gather(-1, actions[..., None]).squeeze(-1)).sum() / 16, th)
    torch.testing.assert_close(ref.reward_to_go_gradient(logits, states, actions, rewards), grad2)
    assert ref.reinforce_gradient(logits.float(), states, actions, rewards.float()).dtype == torch.float32


def test_baseline_reduces_variance_on_sampled_batches():
    logits, states, actions, rewards, probs, grad = _mdp(4)
    gen = _gen(5)
    idx = torch.multinomial(probs, 4000, replacement=True, generator=gen)
    plain = torch.stack([ref.reinforce_gradient(logits, states[i:i + 1], actions[i:i + 1], rewards[i:i + 1])
                         for i in idx.tolist()])
    # the sample mean is within 5 standard errors of the exact gradient
    se = plain.std(0) / 4000 ** 0.5
    assert ((plain.mean(0) - grad).abs() <= 5 * se + 1e-12).all()


# ----------------------------------------------------------------------------- GAE

def test_gae_limits():
    g = _gen(6)
    r = torch.randn(2, 12, generator=g, dtype=F64)
    v = torch.randn(2, 13, generator=g, dtype=F64)
    d = torch.zeros(2, 12, dtype=F64)
    d[0, 4] = 1.0
    delta = r + 0.9 * (1 - d) * v[:, 1:] - v[:, :-1]
    torch.testing.assert_close(ref.gae_advantages(r, v, d, 0.9, 0.0), delta)
    # lambda = 1 on row 1 (no episode end): Monte-Carlo return bootstrapped with V_T, minus V
    mc = ref.rewards_to_go(torch.cat([r[1], v[1, -1:]]), 0.9)[:-1] - v[1, :-1]
    torch.testing.assert_close(ref.gae_advantages(r, v, d, 0.9, 1.0)[1], mc)
    # row 0: the first episode ends after step 4, so its advantages ignore everything later
    mc0 = ref.rewards_to_go(r[0, :5], 0.9) - v[0, :5]
    torch.testing.assert_close(ref.gae_advantages(r, v, d, 0.9, 1.0)[0, :5], mc0)
    assert ref.gae_advantages(r, v, d.bool(), 0.9, 0.5).shape == (2, 12)


# ----------------------------------------------------------------------------- value targets, PPO, PUCT

def test_dqn_targets():
    r = torch.tensor([1.0, 2.0], dtype=F64)
    qo = torch.tensor([[5.0, 1.0], [0.0, 3.0]], dtype=F64)
    qt = torch.tensor([[2.0, 4.0], [7.0, 1.0]], dtype=F64)
    d = torch.tensor([False, True])
    torch.testing.assert_close(ref.dqn_target(r, qt, d, 0.5), torch.tensor([3.0, 2.0], dtype=F64))
    torch.testing.assert_close(ref.double_dqn_target(r, qo, qt, d, 0.5), torch.tensor([2.0, 2.0], dtype=F64))


def test_ppo_objective_value_and_gradient():
    lp = torch.log(torch.tensor([1.5, 0.5, 1.1, 0.5], dtype=F64)).requires_grad_(True)
    adv = torch.tensor([1.0, -1.0, 2.0, 1.0], dtype=F64)
    obj = ref.ppo_clip_objective(lp, torch.zeros(4, dtype=F64), adv)
    torch.testing.assert_close(obj, torch.tensor(0.775, dtype=F64))
    obj.backward()
    torch.testing.assert_close(lp.grad, torch.tensor([0.0, 0.0, 0.55, 0.125], dtype=F64))
    # at the old policy the gradient is the plain policy gradient, mean of A * grad log pi
    lp2 = torch.zeros(4, dtype=F64, requires_grad=True)
    ref.ppo_clip_objective(lp2, torch.zeros(4, dtype=F64), adv).backward()
    torch.testing.assert_close(lp2.grad, adv / 4)


def test_puct_select_rules():
    q = torch.tensor([0.0, 0.5])
    assert ref.puct_select(q, torch.tensor([0.9, 0.1]), torch.tensor([1, 3]), c=2.0).item() == 0
    assert ref.puct_select(torch.zeros(3), torch.ones(3) / 3, torch.tensor([1, 0, 0])).item() == 1
    legal = torch.tensor([False, True, True])
    assert ref.puct_select(torch.tensor([1.0, 0.0, 0.0]), torch.ones(3) / 3, torch.ones(3), legal=legal).item() == 1
    batch = ref.puct_select(torch.rand(5, 9, generator=_gen(7)), torch.ones(5, 9) / 9, torch.zeros(5, 9))
    assert batch.shape == (5,) and batch.dtype == torch.long


# ----------------------------------------------------------------------------- imitation

def test_fit_tabular_policy_means_and_empty_cells():
    table = ref.fit_tabular_policy(torch.tensor([0, 0, 2]), torch.tensor([1.0, 3.0, -1.0]), 4)
    torch.testing.assert_close(table, torch.tensor([2.0, 0.0, -1.0, 0.0]))


def test_dagger_beats_behaviour_cloning_on_the_windy_line():
    env = WindyLine()
    demo = env.rollout(env.expert_action, _gen(0), n_episodes=1).reshape(-1)

    def fit(s, a):
        return env.tabular_policy(ref.fit_tabular_policy(env.cell_index(s), a, env.n_cells))

    def collect(policy, gen):
        return env.rollout(policy, gen, n_episodes=4).reshape(-1)

    bc = fit(demo, env.expert_action(demo))
    s, a = ref.dagger(demo, env.expert_action(demo), env.expert_action, collect, fit, 5, _gen(1))
    assert s.shape == a.shape == (40 + 5 * 4 * 40,)
    torch.testing.assert_close(a, env.expert_action(s))
    dg = fit(s, a)
    test = lambda pol: env.rollout(pol, _gen(2), n_episodes=200).abs().mean().item()  # noqa: E731
    expert, cloned, aggregated = test(env.expert_action), test(bc), test(dg)
    assert cloned > 3 * expert
    assert aggregated < 1.5 * expert


# ----------------------------------------------------------------------------- stepping stones

@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_policy_score_is_the_gradient_of_log_softmax(dtype):
    g = torch.Generator().manual_seed(16)
    logits = torch.randn(4, 3, generator=g, dtype=dtype) * 2
    states, actions = torch.randint(4, (2, 5), generator=g), torch.randint(3, (2, 5), generator=g)
    got = ref.policy_score(logits, states, actions)
    assert got.shape == (2, 5, 3) and got.dtype == dtype
    for b in range(2):
        for t in range(5):
            th = logits.detach().clone().requires_grad_(True)
            torch.log_softmax(th, -1)[states[b, t], actions[b, t]].backward()
            torch.testing.assert_close(got[b, t], th.grad[states[b, t]])


def test_td_errors_are_gae_with_lambda_zero():
    g = torch.Generator().manual_seed(17)
    r = torch.randn(3, 9, generator=g, dtype=torch.float64)
    v = torch.randn(3, 10, generator=g, dtype=torch.float64)
    d = torch.rand(3, 9, generator=g) < 0.3
    torch.testing.assert_close(ref.td_errors(r, v, d, 0.9), ref.gae_advantages(r, v, d, 0.9, 0.0))


# ----------------------------------------------------------------------------- the make-it-work task

def test_train_cartpole_policy_clears_the_target_and_an_untrained_policy_does_not():
    from autograder.checks.ch16 import (CARTPOLE_SEEDS, CARTPOLE_TARGET, cartpole_policy_from_state,
                                        greedy_cartpole_return)

    for seed in (*CARTPOLE_SEEDS, 3, 5):
        net, returns = ref.train_cartpole_policy(seed=seed)
        assert len(returns) == 160
        assert greedy_cartpole_return(cartpole_policy_from_state(net.state_dict())) >= CARTPOLE_TARGET + 25
    torch.manual_seed(0)
    untrained = torch.nn.Sequential(torch.nn.Linear(4, 32), torch.nn.Tanh(), torch.nn.Linear(32, 2))
    assert greedy_cartpole_return(cartpole_policy_from_state(untrained.state_dict())) < CARTPOLE_TARGET / 2



def test_replay_buffer_ring_and_draws():
    buf = ref.ReplayBuffer(3, 2, dtype=torch.float64)
    for k in range(7):
        buf.push(torch.tensor([k, -k], dtype=torch.float64))
        assert len(buf) == min(k + 1, 3)
    # push k lives in slot k % 3: pushes 6, 4, 5 after seven pushes
    assert buf.storage[:, 0].tolist() == [6.0, 4.0, 5.0]
    out = buf.sample(2, torch.Generator().manual_seed(3))
    perm = torch.randperm(3, generator=torch.Generator().manual_seed(3))[:2]
    assert torch.equal(out, buf.storage[perm])
    assert len(set(out[:, 0].tolist())) == 2  # without replacement
    with pytest.raises(ValueError):
        buf.sample(4, torch.Generator())
    pushed = torch.tensor([1.0, 2.0], dtype=torch.float64)
    buf.push(pushed)
    pushed.zero_()
    assert buf.storage[1].tolist() == [1.0, 2.0]  # a copy is stored


def test_replay_buffer_draws_are_uniform_over_the_last_capacity_pushes():
    buf = ref.ReplayBuffer(10, 1, dtype=torch.float64)
    for k in range(25):
        buf.push(torch.tensor([float(k)], dtype=torch.float64))
    gen = torch.Generator().manual_seed(0)
    counts = torch.zeros(25)
    for _ in range(2000):
        counts[buf.sample(3, gen).flatten().long()] += 1
    assert counts[:15].sum() == 0
    assert (counts[15:] - 600).abs().max() < 100  # 2000 * 3 / 10 per slot


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_actor_critic_losses_match_autograd_of_the_written_out_losses(dtype):
    g = torch.Generator().manual_seed(5)
    n = 9
    lp = (-torch.rand(n, generator=g, dtype=dtype)).requires_grad_()
    v = torch.randn(n, generator=g, dtype=dtype).requires_grad_()
    nv = torch.randn(n, generator=g, dtype=dtype).requires_grad_()
    h = torch.rand(n, generator=g, dtype=dtype).requires_grad_()
    r = torch.randn(n, generator=g, dtype=dtype)
    d = torch.tensor([0, 1, 0, 0, 1, 0, 0, 0, 1], dtype=torch.bool)
    actor, critic = ref.actor_critic_losses(lp, v, nv, r, d, 0.9, entropies=h, entropy_coef=0.3)
    assert actor.dtype == critic.dtype == dtype and actor.dim() == critic.dim() == 0
    rs, nvs, vs = r.tolist(), nv.detach().tolist(), v.detach().tolist()
    delta = [rs[i] + (0.0 if d[i] else 0.9 * nvs[i]) - vs[i] for i in range(n)]
    delta_t = torch.tensor(delta, dtype=torch.float64)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == torch.float32 else dict(rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(critic.double(), (delta_t ** 2).mean(), **tol)
    torch.testing.assert_close(actor.double(), -(lp.double().detach() * delta_t).mean() - 0.3 * h.double().detach().mean(), **tol)
    g_lp, g_v, g_nv, g_h = torch.autograd.grad(critic, (lp, v, nv, h), retain_graph=True, allow_unused=True)
    assert g_lp is None and g_nv is None and g_h is None  # the critic moves V(s) only
    torch.testing.assert_close(g_v.double(), -2 * delta_t / n, **tol)
    g_lp, g_v, g_nv, g_h = torch.autograd.grad(actor, (lp, v, nv, h), allow_unused=True)
    assert g_v is None and g_nv is None  # the actor never trains the critic
    torch.testing.assert_close(g_lp.double(), -delta_t / n, **tol)
    torch.testing.assert_close(g_h.double(), torch.full((n,), -0.3 / n, dtype=torch.float64), **tol)


def test_actor_critic_advantage_is_the_td_error_of_one_step():
    g = torch.Generator().manual_seed(6)
    v = torch.randn(4, 6, generator=g, dtype=torch.float64)
    r = torch.randn(4, 5, generator=g, dtype=torch.float64)
    d = (torch.rand(4, 5, generator=g) < 0.3).double()
    td = ref.td_errors(r, v, d, 0.95)
    _, critic = ref.actor_critic_losses(torch.zeros(20, dtype=torch.float64), v[:, :-1].reshape(-1),
                                        v[:, 1:].reshape(-1), r.reshape(-1), d.reshape(-1), 0.95)
    torch.testing.assert_close(critic, (td ** 2).mean())
