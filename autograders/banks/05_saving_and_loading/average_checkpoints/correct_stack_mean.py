# Correct: stacks each entry in float64 and takes mean(dim=0); checks with sorted key lists; returns an OrderedDict.
import collections


def average_checkpoints(state_dicts):
    if len(state_dicts) == 0:
        raise ValueError("empty list")
    keys = list(state_dicts[0].keys())
    for sd in state_dicts:
        if sorted(sd.keys()) != sorted(keys):
            raise ValueError("different keys")
        for k in keys:
            if tuple(sd[k].shape) != tuple(state_dicts[0][k].shape):
                raise ValueError(f"different shapes for {k}")
    result = collections.OrderedDict()
    for k in keys:
        dtype = state_dicts[0][k].dtype
        if torch.is_floating_point(state_dicts[0][k]):
            result[k] = torch.stack([sd[k].to(torch.float64) for sd in state_dicts]).mean(dim=0).to(dtype)
        else:
            result[k] = state_dicts[-1][k]
    return result
