# Walks every module's own parameters and keeps the distinct ones by identity before counting.
def count_parameters_meta(factory):
    with torch.device("meta"):
        model = factory()
    distinct = []
    for module in model.modules():
        for p in module.parameters(recurse=False):
            if not any(p is q for q in distinct):
                distinct.append(p)
    return int(sum(p.numel() for p in distinct))
