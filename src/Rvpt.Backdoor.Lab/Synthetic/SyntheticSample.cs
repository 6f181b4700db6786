namespace Rvpt.Backdoor.Lab;

/// <summary>A small distractor object drawn behind the main shape, in a corner other than the main shape's position.</summary>
/// <param name="ClassIndex">The distractor's shape as a class index (never the sample's class).</param>
/// <param name="Shape">The distractor's shape name.</param>
/// <param name="Colour">The distractor's colour name.</param>
/// <param name="Position">The distractor's position name (a corner).</param>
public sealed record SyntheticDistractor(int ClassIndex, string Shape, string Colour, string Position);

/// <summary>The description of one synthetic sample: its class, its nuisance attributes and its caption.</summary>
/// <param name="ClassIndex">The class index, <c>index % ClassNames.Count</c>.</param>
/// <param name="ClassName">The class (shape) name.</param>
/// <param name="Colour">The shape's colour name.</param>
/// <param name="Size">The shape's size name (<c>small</c> or <c>large</c>).</param>
/// <param name="Position">The shape's position name (<c>center</c>, <c>top left</c>, ...).</param>
/// <param name="BackgroundColour">The background colour name (always different from, and contrasting with, <paramref name="Colour"/>).</param>
/// <param name="Texture">The background texture name (<c>plain</c>, <c>striped</c> or <c>dotted</c>).</param>
/// <param name="SecondObject">The distractor, or <see langword="null"/> when there is none.</param>
/// <param name="Caption">The caption: lower-case vocabulary words and a final <c>.</c>; it always names the class.</param>
public sealed record SyntheticSample(
    int ClassIndex,
    string ClassName,
    string Colour,
    string Size,
    string Position,
    string BackgroundColour,
    string Texture,
    SyntheticDistractor? SecondObject,
    string Caption);
