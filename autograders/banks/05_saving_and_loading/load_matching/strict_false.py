# Calls load_state_dict(strict=False) on everything: it still raises on a shape mismatch.
def load_matching(model, state_dict):
    result = model.load_state_dict(state_dict, strict=False)
    loaded = [k for k in state_dict if k not in result.unexpected_keys]
    return sorted(loaded), sorted(result.unexpected_keys)
