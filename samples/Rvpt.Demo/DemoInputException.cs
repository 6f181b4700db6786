namespace Rvpt.Demo;

/// <summary>A wrong command-line input (path, class, attack); the message says what was expected.</summary>
internal sealed class DemoInputException(string message) : Exception(message);
