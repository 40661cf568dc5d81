# Buffer filled by uniform_(0, 1); counts the halvings first, then scales once by 2**-k (exact in floating point)
class FixedHiddenMLP(nn.Module):
    def __init__(self):
        super().__init__()
        constant = torch.empty(20, 20).uniform_(0.0, 1.0)
        self.linear = nn.Linear(in_features=20, out_features=20)
        self.register_buffer(name="rand_weight", tensor=constant)

    def forward(self, X):
        hidden = torch.relu(torch.matmul(self.linear(X), self.rand_weight) + 1)
        out = self.linear(hidden)
        halvings = 0
        while out.abs().sum() * 0.5 ** halvings > 1:
            halvings += 1
        return (out * 0.5 ** halvings).sum()
