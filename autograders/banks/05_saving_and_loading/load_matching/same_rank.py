# Checks only that the entry has as many dimensions as the model's, and catches copy_'s error: a (4, 3) weight is skipped but a (1,) bias is broadcast in.
def load_matching(model, state_dict):
    own = model.state_dict()
    loaded = []
    with torch.no_grad():
        for key, value in state_dict.items():
            if key in own and own[key].dim() == value.dim():
                try:
                    own[key].copy_(value)
                    loaded.append(key)
                except RuntimeError:
                    pass
    return sorted(loaded), sorted(k for k in state_dict if k not in loaded)
