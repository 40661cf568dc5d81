# Keeps the weight as a plain tensor with requires_grad=True: not a registered parameter.
class TensorReduction(nn.Module):
    def __init__(self, in_features, out_features):
        super().__init__()
        self.weight = torch.randn(in_features, in_features, out_features, requires_grad=True)

    def forward(self, X):
        return torch.einsum("bi,ijk,bj->bk", X, self.weight, X)
