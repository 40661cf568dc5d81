# Tries load_state_dict(strict=False) and, when a shape differs, loads nothing at all.
def load_matching(model, state_dict):
    try:
        result = model.load_state_dict(state_dict, strict=False)
    except RuntimeError:
        return [], sorted(state_dict)
    return sorted(k for k in state_dict if k not in result.unexpected_keys), sorted(result.unexpected_keys)
