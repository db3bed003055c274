// Code that calls a model through the router: curl, Python and TypeScript with the OpenAI SDK.

const KEY_PLACEHOLDER = 'RELAYGATE_API_KEY';

function calls(type) {
  switch (type) {
    case 'completion':
      return {
        path: '/completions',
        body: (model) => ({ model, prompt: 'Say hello', max_tokens: 32 }),
        python: (model) => `completion = client.completions.create(\n    model="${model}",\n    prompt="Say hello",\n    max_tokens=32,\n)\nprint(completion.choices[0].text)`,
        typescript: (model) => `const completion = await client.completions.create({\n  model: "${model}",\n  prompt: "Say hello",\n  max_tokens: 32,\n});\nconsole.log(completion.choices[0].text);`,
      };
    case 'embedding':
      return {
        path: '/embeddings',
        body: (model) => ({ model, input: 'The quick brown fox' }),
        python: (model) => `embedding = client.embeddings.create(\n    model="${model}",\n    input="The quick brown fox",\n)\nprint(len(embedding.data[0].embedding))`,
        typescript: (model) => `const embedding = await client.embeddings.create({\n  model: "${model}",\n  input: "The quick brown fox",\n});\nconsole.log(embedding.data[0].embedding.length);`,
      };
    case 'image':
      return {
        path: '/images/generations',
        body: (model) => ({ model, prompt: 'A lighthouse at dusk', n: 1, size: '1024x1024' }),
        python: (model) => `image = client.images.generate(\n    model="${model}",\n    prompt="A lighthouse at dusk",\n    size="1024x1024",\n)\nprint(image.data[0].url or "received b64_json")`,
        typescript: (model) => `const image = await client.images.generate({\n  model: "${model}",\n  prompt: "A lighthouse at dusk",\n  size: "1024x1024",\n});\nconsole.log(image.data?.[0]?.url ?? "received b64_json");`,
      };
    case 'moderation':
      return {
        path: '/moderations',
        body: (model) => ({ model, input: 'Some text to check' }),
        python: (model) => `result = client.moderations.create(\n    model="${model}",\n    input="Some text to check",\n)\nprint(result.results[0].flagged)`,
        typescript: (model) => `const result = await client.moderations.create({\n  model: "${model}",\n  input: "Some text to check",\n});\nconsole.log(result.results[0].flagged);`,
      };
    case 'tts':
      return {
        path: '/audio/speech',
        body: (model) => ({ model, input: 'Hello from relaygate', voice: 'alloy' }),
        curlTail: ' \\\n  --output speech.mp3',
        python: (model) => `speech = client.audio.speech.create(\n    model="${model}",\n    input="Hello from relaygate",\n    voice="alloy",\n)\nspeech.write_to_file("speech.mp3")`,
        typescript: (model) => `const speech = await client.audio.speech.create({\n  model: "${model}",\n  input: "Hello from relaygate",\n  voice: "alloy",\n});\nawait fs.promises.writeFile("speech.mp3", Buffer.from(await speech.arrayBuffer()));`,
        tsImports: 'import fs from "node:fs";\n',
      };
    case 'stt':
      return {
        path: '/audio/transcriptions',
        multipart: (model) => `  -F model="${model}" \\\n  -F file="@recording.mp3"`,
        python: (model) => `with open("recording.mp3", "rb") as audio:\n    transcript = client.audio.transcriptions.create(model="${model}", file=audio)\nprint(transcript.text)`,
        typescript: (model) => `const transcript = await client.audio.transcriptions.create({\n  model: "${model}",\n  file: fs.createReadStream("recording.mp3"),\n});\nconsole.log(transcript.text);`,
        tsImports: 'import fs from "node:fs";\n',
      };
    case 'rerank':
      return {
        path: '/rerank',
        body: (model) => ({ model, query: 'What is relaygate?', documents: ['An AI router', 'A garden gate'], top_n: 1 }),
        python: (model) => `# The OpenAI SDK has no rerank method; post the request through its client.\nresult = client.post(\n    "/rerank",\n    body={"model": "${model}", "query": "What is relaygate?", "documents": ["An AI router", "A garden gate"]},\n    cast_to=object,\n)\nprint(result)`,
        typescript: (model) => `// The OpenAI SDK has no rerank method; post the request through its client.\nconst result = await client.post("/rerank", {\n  body: { model: "${model}", query: "What is relaygate?", documents: ["An AI router", "A garden gate"] },\n});\nconsole.log(result);`,
      };
    default:
      return {
        path: '/chat/completions',
        body: (model) => ({ model, messages: [{ role: 'user', content: 'Say hello in one short sentence.' }] }),
        python: (model) => `completion = client.chat.completions.create(\n    model="${model}",\n    messages=[{"role": "user", "content": "Say hello in one short sentence."}],\n)\nprint(completion.choices[0].message.content)`,
        typescript: (model) => `const completion = await client.chat.completions.create({\n  model: "${model}",\n  messages: [{ role: "user", content: "Say hello in one short sentence." }],\n});\nconsole.log(completion.choices[0].message.content);`,
      };
  }
}

/** {curl, python, typescript} for a model with this router id and type, against this server. */
export function snippets({ origin, routerId, modelType }) {
  const base = `${origin}/v3/router`;
  const call = calls(modelType);
  const data = call.multipart
    ? call.multipart(routerId)
    : `  -H "Content-Type: application/json" \\\n  -d '${JSON.stringify(call.body(routerId))}'${call.curlTail ?? ''}`;
  const curl = `curl ${base}${call.path} \\\n  -H "Authorization: Bearer $${KEY_PLACEHOLDER}" \\\n${data}`;
  const python = `import os\n\nfrom openai import OpenAI\n\nclient = OpenAI(\n    base_url="${base}",\n    api_key=os.environ["${KEY_PLACEHOLDER}"],\n)\n\n${call.python(routerId)}\n`;
  const typescript = `${call.tsImports ?? ''}import OpenAI from "openai";\n\nconst client = new OpenAI({\n  baseURL: "${base}",\n  apiKey: process.env.${KEY_PLACEHOLDER},\n});\n\n${call.typescript(routerId)}\n`;
  return { curl, python, typescript };
}
