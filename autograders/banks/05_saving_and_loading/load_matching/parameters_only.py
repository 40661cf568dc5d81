# Looks only at named_parameters(): the buffers (BatchNorm's running statistics) are never loaded.
def load_matching(model, state_dict):
    params = dict(model.named_parameters())
    loaded, skipped = [], []
    with torch.no_grad():
        for key, value in state_dict.items():
            if key in params and params[key].shape == value.shape:
                params[key].copy_(value)
                loaded.append(key)
            else:
                skipped.append(key)
    return sorted(loaded), sorted(skipped)
