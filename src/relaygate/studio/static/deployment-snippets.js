// Code that invokes a deployment against this relaygate: the hosted product's SDKs (orq-ai-sdk for
// Python, @orq-ai/node) unchanged but for the server URL, and any OpenAI SDK through the router
// with the model "deployment/<key>".

const example = (name) => `<${name}>`;

function pythonDict(variables) {
  if (!variables.length) return '{}';
  return `{${variables.map((name) => `${JSON.stringify(name)}: ${JSON.stringify(example(name))}`).join(', ')}}`;
}

function jsObject(variables) {
  if (!variables.length) return '{}';
  const key = (name) => (/^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name));
  return `{ ${variables.map((name) => `${key(name)}: ${JSON.stringify(example(name))}`).join(', ')} }`;
}

/**
 * {python, node, openai} for the deployment with this key and variables, against this origin.
 * endsWithUser: the template's last message is the user's, so the OpenAI call adds no message of its own.
 */
export function deploymentSnippets({ origin, key, variables = [], endsWithUser = false }) {
  const python = `import os

from orq_ai_sdk import Orq

client = Orq(
    api_key=os.environ["ORQ_API_KEY"],
    server_url="${origin}",
)

completion = client.deployments.invoke(
    key=${JSON.stringify(key)},
    inputs=${pythonDict(variables)},
)
print(completion.choices[0].message.content)
`;
  const node = `import { Orq } from "@orq-ai/node";

const orq = new Orq({
  apiKey: process.env.ORQ_API_KEY,
  serverURL: "${origin}",
});

const completion = await orq.deployments.invoke({
  key: ${JSON.stringify(key)},
  inputs: ${jsObject(variables)},
});
console.log(completion?.choices[0]?.message);
`;
  const messages = endsWithUser ? '[]' : '[{"role": "user", "content": "Hello"}]';
  const openai = `import os

from openai import OpenAI

client = OpenAI(
    base_url="${origin}/v3/router",
    api_key=os.environ["RELAYGATE_API_KEY"],
)

completion = client.chat.completions.create(
    model=${JSON.stringify(`deployment/${key}`)},
    messages=${messages},
    extra_body={"inputs": ${pythonDict(variables)}},
)
print(completion.choices[0].message.content)
`;
  return { python, node, openai };
}
