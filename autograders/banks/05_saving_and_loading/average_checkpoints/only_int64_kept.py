# Keeps only int64 entries from the last state_dict and averages every other dtype: int32 counts and bool masks get averaged.
def average_checkpoints(state_dicts):
    if not state_dicts:
        raise ValueError("empty")
    first = state_dicts[0]
    for sd in state_dicts:
        if set(sd) != set(first) or any(sd[k].shape != first[k].shape for k in first):
            raise ValueError("keys or shapes differ")
    return {k: state_dicts[-1][k].clone() if v.dtype == torch.int64
            else (sum(sd[k].double() for sd in state_dicts) / len(state_dicts)).to(v.dtype) for k, v in first.items()}
