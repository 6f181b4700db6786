namespace Rvpt.Backdoor;

/// <summary>Which CLIP weights a fine-tune updates.</summary>
public enum ClipTowers
{
    /// <summary>Every weight, including the logit scale.</summary>
    All,

    /// <summary>The image tower (<c>visual.*</c>) only.</summary>
    Vision,

    /// <summary>The text tower only.</summary>
    Text,
}
