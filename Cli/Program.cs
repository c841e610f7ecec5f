using Spectre.Console;

namespace EventSourcedChat.Cli;

public static class Program
{
    public static Task<int> Main(string[] args) =>
        ChatctlCommand.Build(AnsiConsole.Console, Console.Out).Parse(args).InvokeAsync();
}
