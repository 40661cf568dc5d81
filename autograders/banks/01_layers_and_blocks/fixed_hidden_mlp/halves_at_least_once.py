# A do-while loop: halves X once before testing the condition, even when X.abs().sum() <= 1 already
class FixedHiddenMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("rand_weight", torch.rand(20, 20))
        self.linear = nn.Linear(20, 20)

    def forward(self, X):
        X = self.linear(X)
        X = F.relu(X @ self.rand_weight + 1)
        X = self.linear(X)
        while True:
            X = X / 2
            if X.abs().sum() <= 1:
                break
        return X.sum()
