/**
 * @module
 * Renders the config templates of `infra/local/templates` (`{{name}}` placeholders).
 */

const TEMPLATE_DIR = new URL("./templates/", import.meta.url);

/**
 * Fills every `{{name}}` of a template with `vars[name]`.
 * @throws {RangeError} when a placeholder has no value, naming it
 */
export function render(template: string, vars: Record<string, string | number>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    const v = vars[name];
    if (v === undefined) throw new RangeError(`Cannot render template: no value for '{{${name}}}'`);
    return String(v);
  });
}

/** Renders template `name` of `infra/local/templates` into `dest`. */
export async function renderFile(
  name: string,
  dest: string,
  vars: Record<string, string | number>,
): Promise<void> {
  const text = await Deno.readTextFile(new URL(name, TEMPLATE_DIR));
  await Deno.writeTextFile(dest, render(text, vars));
}
