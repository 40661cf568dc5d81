# Correct: torch.mean(..., dtype=torch.float64) over a stack; checks keys with a symmetric difference and shapes with torch.Size.
def average_checkpoints(state_dicts):
    if not state_dicts:
        raise ValueError("empty")
    first, last = state_dicts[0], state_dicts[-1]
    for sd in state_dicts:
        if set(sd) ^ set(first) or any(sd[k].size() != first[k].size() for k in first):
            raise ValueError("keys or shapes differ")
    return {k: torch.mean(torch.stack([sd[k] for sd in state_dicts]), dim=0, dtype=torch.float64).to(v.dtype)
            if v.dtype.is_floating_point else last[k].clone() for k, v in first.items()}
