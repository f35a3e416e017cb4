// Command-line flags shared by the bench entry points: `--name` and `--name=value`.
const argv = process.argv.slice(2);

export const flag = (name) => argv.includes(`--${name}`);

export const option = (name, fallback) => {
  const hit = argv.find((a) => a.startsWith(`--${name}=`));
  return hit === undefined ? fallback : hit.slice(name.length + 3);
};
