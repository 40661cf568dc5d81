# Compares the number of elements instead of the shape, and reshapes: a transposed weight gets loaded scrambled.
def load_matching(model, state_dict):
    own = model.state_dict()
    loaded, skipped = [], []
    with torch.no_grad():
        for key, value in state_dict.items():
            if key in own and own[key].numel() == value.numel():
                own[key].copy_(value.reshape(own[key].shape))
                loaded.append(key)
            else:
                skipped.append(key)
    return sorted(loaded), sorted(skipped)
