using System.Reflection;
using System.Reflection.Emit;
using EventSourcedChat.Gateway.Presence;

namespace EventSourcedChat.Tests.Presence;

/// <summary>
/// Presence asks the read side who may see whom, never the write side's tables: no type of <c>Gateway/Presence</c>
/// (with its compiler-made state machines and closures) names anything of the Commands assembly, in a field, a
/// signature or an instruction of a method body.
/// </summary>
public sealed class PresenceDependencies
{
    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    [Fact]
    public void Gateway_presence_uses_nothing_of_the_write_side()
    {
        var commands = typeof(EventSourcedChat.Commands.Workspaces.WorkspaceAccess).Assembly;
        var presence = typeof(PresenceService).Assembly.GetTypes()
            .Where(t => t.Namespace == typeof(PresenceService).Namespace)
            .ToList();
        Assert.Contains(typeof(PresenceVisibility), presence);

        var uses = presence
            .SelectMany(t => Used(t).Where(u => u.Assembly == commands).Select(u => $"{t.FullName} uses {u.FullName}"))
            .Distinct()
            .ToList();

        Assert.Empty(uses);
    }

    private const BindingFlags Declared = BindingFlags.DeclaredOnly | BindingFlags.Instance | BindingFlags.Static
        | BindingFlags.Public | BindingFlags.NonPublic;

    private static IEnumerable<Type> Used(Type type)
    {
        foreach (var field in type.GetFields(Declared))
        {
            yield return field.FieldType;
        }
        foreach (var method in type.GetMethods(Declared).Cast<MethodBase>().Concat(type.GetConstructors(Declared)))
        {
            foreach (var parameter in method.GetParameters())
            {
                yield return parameter.ParameterType;
            }
            if (method is MethodInfo info)
            {
                yield return info.ReturnType;
            }
            foreach (var used in InBody(method))
            {
                yield return used;
            }
        }
    }

    /// <summary>The declaring types of the methods and fields, and the types, that a method body's instructions name.</summary>
    private static IEnumerable<Type> InBody(MethodBase method)
    {
        var il = method.GetMethodBody()?.GetILAsByteArray() ?? [];
        var typeArguments = method.DeclaringType?.IsGenericType == true ? method.DeclaringType.GetGenericArguments() : null;
        var methodArguments = method.IsGenericMethod ? method.GetGenericArguments() : null;
        for (var i = 0; i < il.Length;)
        {
            var value = il[i] == 0xFE ? (short)(0xFE00 | il[i + 1]) : il[i];
            i += il[i] == 0xFE ? 2 : 1;
            var opCode = OpCodesByValue[value];
            if (opCode.OperandType is OperandType.InlineMethod or OperandType.InlineField or OperandType.InlineType or OperandType.InlineTok)
            {
                var member = method.Module.ResolveMember(BitConverter.ToInt32(il, i), typeArguments, methodArguments);
                if ((member as Type ?? member?.DeclaringType) is { } named)
                {
                    yield return named;
                }
            }
            i += opCode.OperandType switch
            {
                OperandType.InlineNone => 0,
                OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                OperandType.InlineVar => 2,
                OperandType.InlineI8 or OperandType.InlineR => 8,
                OperandType.InlineSwitch => 4 + (4 * BitConverter.ToInt32(il, i)),
                _ => 4,
            };
        }
    }
}
