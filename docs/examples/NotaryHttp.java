// Anchors files on a notary chain over HTTP/JSON with nothing but the Java
// 17 standard library (Debian's openjdk-17-jdk-headless), then fetches a
// receipt for each and looks its digest up. It is the Java twin of
// notary_http.py: the same salted commitments, batches, unordered
// transactions and receipt files (docs/integration.md explains each step).
// The agency signs its own transactions with java.security's Ed25519: the
// gateway never holds an agency's key.
//
// usage: java NotaryHttp.java URL IDENTITY_DIR OUT_DIR FILE...
//   URL           the gateway's HTTP/JSON address, e.g. https://127.0.0.1:9443
//   IDENTITY_DIR  identity.json (chain id, agency id, ed25519 key, salt key),
//                 tls.crt and tls.key (the client certificate) and ca.crt
//   OUT_DIR       where FILE.receipt.json is written for each FILE
// Each receipt file is checked offline by
// `verifier verify FILE FILE.receipt.json --trust trust.json`.

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

public class NotaryHttp {
    static final int BATCH = 1000; // digests per transaction
    static final int SHA2_256 = 1; // notary.v1.HashAlgorithm
    static final HexFormat HEX = HexFormat.of();

    public static void main(String[] args) throws Exception {
        if (args.length < 4) {
            System.err.println("usage: java NotaryHttp.java URL IDENTITY_DIR OUT_DIR FILE...");
            System.exit(2);
        }
        try {
            System.exit(run(args[0], Path.of(args[1]), Path.of(args[2]), List.of(args).subList(3, args.length)));
        } catch (NotaryException e) {
            System.err.println(e.getMessage());
            System.exit(1);
        }
    }

    /** A document: its file, digest, salt and the commitment anchored for it. */
    record Doc(Path path, byte[] digest, byte[] salt, byte[] anchored) {}

    static int run(String url, Path identityDir, Path outDir, List<String> files) throws Exception {
        Files.createDirectories(outDir);
        Client client = new Client(url, identityDir);
        byte[] saltKey = HEX.parseHex(client.identity.get("salt_key").toString());

        List<Doc> docs = new ArrayList<>();
        for (String f : files) {
            Path p = Path.of(f);
            byte[] digest = sha256(Files.readAllBytes(p));
            byte[] salt = hmacSha256(saltKey, concat("notary/salt/v1".getBytes(StandardCharsets.UTF_8), digest));
            byte[] anchored = sha256(concat("notary/salted/v1".getBytes(StandardCharsets.UTF_8), salt, digest));
            docs.add(new Doc(p, digest, salt, anchored));
        }

        Map<String, Object> status = obj(client.call("/v1/get-status", Map.of()));
        Map<String, Object> params = obj(obj(client.call("/v1/get-params", Map.of())).getOrDefault("params", Map.of()));
        Validity v = new Validity();
        v.height = num(status.get("latest_height"));
        v.window = num(params.get("max_unordered_window"));
        if (v.window == 0) {
            String pub = b64(HEX.parseHex(client.identity.get("public_key").toString()));
            Map<String, Object> account = obj(client.call("/v1/get-account", Map.of("pub_key", pub)));
            v.sequence = num(obj(account.getOrDefault("account", Map.of())).get("next_sequence"));
        }

        List<Object> requests = new ArrayList<>();
        for (int i = 0; i < docs.size(); i += BATCH) {
            List<byte[]> anchored = new ArrayList<>();
            for (Doc d : docs.subList(i, Math.min(i + BATCH, docs.size()))) {
                anchored.add(d.anchored);
            }
            Map<String, Object> req = new LinkedHashMap<>();
            req.put("tx", b64(anchorTx(client, anchored, v)));
            req.put("request_id", "batch-" + i / BATCH);
            requests.add(req);
        }
        Object answers = obj(client.call("/v1/submit-batch", Map.of("requests", requests))).get("responses");
        for (Object o : (List<?>) answers) {
            Map<String, Object> a = obj(o);
            if (num(a.get("grpc_code")) != 0) {
                System.err.println(a.get("request_id") + ": refused: " + a.get("log"));
                return 1;
            }
            System.out.println(a.get("request_id") + ": committed at height " + a.get("height"));
        }

        for (Doc d : docs) {
            Map<String, Object> lookup = new LinkedHashMap<>();
            lookup.put("hash_algorithm", "HASH_ALGORITHM_SHA2_256");
            lookup.put("digest", b64(d.anchored));
            Map<String, Object> receipt = obj(client.call("/v1/get-receipt", lookup));
            Map<String, Object> doc = obj(receipt.get("document"));
            // The receipt file binds the document: its digest and its salt,
            // in the order of the DocumentBinding fields.
            Map<String, Object> binding = new LinkedHashMap<>();
            binding.put("hash_algorithm", doc.get("hash_algorithm"));
            binding.put("document_digest", HEX.formatHex(d.digest));
            binding.put("salt", HEX.formatHex(d.salt));
            binding.put("anchored_digest", doc.get("anchored_digest"));
            receipt.put("document", binding);
            Path name = outDir.resolve(d.path.getFileName() + ".receipt.json");
            Files.writeString(name, Json.encode(receipt));
            Map<String, Object> found = obj(client.call("/v1/lookup-digest", lookup));
            Object height = obj(found.getOrDefault("batch", Map.of())).getOrDefault("height", "?");
            System.out.println(d.path + ": receipt " + name + ", batch at height " + height);
        }
        return 0;
    }

    /** What makes a transaction valid once: a window, or the account's sequence. */
    static class Validity {
        long height, window, sequence;
    }

    /** The signed bytes of an AnchorBatch of the anchored digests. */
    static byte[] anchorTx(Client client, List<byte[]> anchored, Validity v) throws Exception {
        byte[] chainId = client.identity.get("chain_id").toString().getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(fieldBytes(1, chainId));
        if (v.window > 0) { // unordered: a fresh nonce, valid for half the window
            long until = v.height + v.window / 2;
            byte[] nonce = new byte[16];
            new SecureRandom().nextBytes(nonce);
            body.write(fieldBytes(3, nonce));
            body.write(fieldVarint(4, until));
            System.out.println("unordered transaction, valid until height " + until);
        } else { // ordered: the account's next sequence
            body.write(fieldVarint(2, v.sequence));
            System.out.println("ordered transaction, sequence " + v.sequence);
            v.sequence++;
        }
        byte[] agency = client.identity.get("id").toString().getBytes(StandardCharsets.UTF_8);
        byte[] batch = concat(fieldBytes(1, agency), fieldVarint(2, SHA2_256), fieldBytes(3, concat(anchored.toArray(new byte[0][]))));
        body.write(fieldBytes(10, batch));
        byte[] signBytes = concat("notary/tx/v1".getBytes(StandardCharsets.UTF_8), varint(chainId.length), chainId, body.toByteArray());
        byte[] pub = HEX.parseHex(client.identity.get("public_key").toString());
        return concat(fieldBytes(1, body.toByteArray()), fieldBytes(2, pub), fieldBytes(3, client.sign(signBytes)));
    }

    /** A client of the gateway's HTTP/JSON routes as one agency. */
    static class Client {
        final Map<String, Object> identity;
        final String url;
        final HttpClient http;
        final PrivateKey signer;

        Client(String url, Path dir) throws Exception {
            this.identity = obj(Json.decode(Files.readString(dir.resolve("identity.json"))));
            this.url = url.replaceAll("/+$", "");
            // PKCS#8 wrapping of an ed25519 seed (RFC 8410).
            byte[] seed = HEX.parseHex(identity.get("private_key").toString());
            byte[] pkcs8 = concat(HEX.parseHex("302e020100300506032b657004220420"), seed);
            this.signer = KeyFactory.getInstance("Ed25519").generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
            this.http = HttpClient.newBuilder().sslContext(tls(dir)).connectTimeout(Duration.ofSeconds(30)).build();
        }

        byte[] sign(byte[] message) throws Exception {
            Signature s = Signature.getInstance("Ed25519");
            s.initSign(signer);
            s.update(message);
            return s.sign();
        }

        Object call(String route, Object request) throws Exception {
            HttpRequest req = HttpRequest.newBuilder(URI.create(url + route))
                    .header("Content-Type", "application/json")
                    .timeout(Duration.ofSeconds(120))
                    .POST(HttpRequest.BodyPublishers.ofString(Json.encode(request)))
                    .build();
            HttpResponse<String> resp = http.send(req, HttpResponse.BodyHandlers.ofString());
            Object body = Json.decode(resp.body());
            if (resp.statusCode() != 200) {
                Map<String, Object> e = obj(body);
                throw new NotaryException(route + ": HTTP " + resp.statusCode() + " " + e.get("status") + ": " + e.get("message"));
            }
            return body;
        }
    }

    /** An error answer: HTTP status, gRPC code name and message. */
    static class NotaryException extends Exception {
        NotaryException(String message) {
            super(message);
        }
    }

    /** The mutual TLS context: the consortium CA and the agency's certificate. */
    static SSLContext tls(Path dir) throws Exception {
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("ca", cf.generateCertificate(Files.newInputStream(dir.resolve("ca.crt"))));
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);

        Certificate cert = cf.generateCertificate(Files.newInputStream(dir.resolve("tls.crt")));
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        char[] pass = new char[0];
        keys.setKeyEntry("agency", ecKey(Files.readString(dir.resolve("tls.key"))), pass, new Certificate[] {cert});
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, pass);

        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return ctx;
    }

    /** The P-256 key of a PEM file, SEC 1 ("EC PRIVATE KEY") or PKCS#8 ("PRIVATE KEY"). */
    static PrivateKey ecKey(String pem) throws Exception {
        boolean sec1 = pem.contains("BEGIN EC PRIVATE KEY");
        String b64 = pem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
        byte[] der = Base64.getDecoder().decode(b64);
        if (sec1) { // wrap in PKCS#8: version 0, id-ecPublicKey with prime256v1, the SEC 1 key
            byte[] alg = HEX.parseHex("301306072a8648ce3d020106082a8648ce3d030107");
            byte[] inner = concat(HEX.parseHex("020100"), alg, derHeader(0x04, der.length), der);
            der = concat(derHeader(0x30, inner.length), inner);
        }
        return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(der));
    }

    static byte[] derHeader(int tag, int length) {
        if (length < 0x80) {
            return new byte[] {(byte) tag, (byte) length};
        }
        byte[] n = BigInteger.valueOf(length).toByteArray();
        int skip = n[0] == 0 ? 1 : 0;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(tag);
        out.write(0x80 | (n.length - skip));
        out.write(n, skip, n.length - skip);
        return out.toByteArray();
    }

    // Protobuf encoding of the few fields a transaction needs.
    static byte[] varint(long n) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while ((n & ~0x7FL) != 0) {
            out.write((int) ((n & 0x7F) | 0x80));
            n >>>= 7;
        }
        out.write((int) n);
        return out.toByteArray();
    }

    static byte[] fieldBytes(int number, byte[] value) {
        return value.length == 0 ? new byte[0] : concat(varint((long) number << 3 | 2), varint(value.length), value);
    }

    static byte[] fieldVarint(int number, long value) {
        return value == 0 ? new byte[0] : concat(varint((long) number << 3), varint(value));
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    static byte[] sha256(byte[] b) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(b);
    }

    static byte[] hmacSha256(byte[] key, byte[] message) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key, "HmacSHA256"));
        return mac.doFinal(message);
    }

    static String b64(byte[] b) {
        return Base64.getEncoder().encodeToString(b);
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> obj(Object o) {
        return o instanceof Map ? (Map<String, Object>) o : new LinkedHashMap<>();
    }

    /** A JSON number or a 64-bit integer sent as a string (proto3 JSON); 0 when absent. */
    static long num(Object o) {
        return o == null ? 0 : new BigInteger(o.toString()).longValueExact();
    }

    /**
     * The JSON the gateway speaks, with the standard library alone: objects keep
     * their order, numbers keep their text, strings are written as UTF-8.
     */
    static final class Json {
        /** A number, kept as written. */
        record Number(String text) {
            @Override
            public String toString() {
                return text;
            }
        }

        /** JSON's null, kept so that a receipt is written back as it came. */
        static final Object NULL = new Object() {
            @Override
            public String toString() {
                return "null";
            }
        };

        private final String s;
        private int i;

        private Json(String s) {
            this.s = s;
        }

        static Object decode(String text) {
            Json p = new Json(text);
            Object v = p.value();
            p.space();
            if (p.i != text.length()) {
                throw p.error("trailing characters");
            }
            return v;
        }

        private IllegalArgumentException error(String what) {
            return new IllegalArgumentException("JSON: " + what + " at offset " + i);
        }

        private void space() {
            while (i < s.length() && " \t\r\n".indexOf(s.charAt(i)) >= 0) {
                i++;
            }
        }

        private Object value() {
            space();
            if (i >= s.length()) {
                throw error("unexpected end");
            }
            char c = s.charAt(i);
            switch (c) {
                case '{':
                    Map<String, Object> m = new LinkedHashMap<>();
                    i++;
                    space();
                    if (s.charAt(i) == '}') {
                        i++;
                        return m;
                    }
                    while (true) {
                        space();
                        String key = string();
                        space();
                        expect(':');
                        m.put(key, value());
                        space();
                        if (s.charAt(i) == ',') {
                            i++;
                            continue;
                        }
                        expect('}');
                        return m;
                    }
                case '[':
                    List<Object> l = new ArrayList<>();
                    i++;
                    space();
                    if (s.charAt(i) == ']') {
                        i++;
                        return l;
                    }
                    while (true) {
                        l.add(value());
                        space();
                        if (s.charAt(i) == ',') {
                            i++;
                            continue;
                        }
                        expect(']');
                        return l;
                    }
                case '"':
                    return string();
                default:
                    for (String lit : new String[] {"true", "false", "null"}) {
                        if (s.startsWith(lit, i)) {
                            i += lit.length();
                            return lit.equals("null") ? NULL : Boolean.valueOf(lit);
                        }
                    }
                    int start = i;
                    while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) {
                        i++;
                    }
                    if (start == i) {
                        throw error("unexpected '" + c + "'");
                    }
                    return new Number(s.substring(start, i));
            }
        }

        private void expect(char c) {
            if (i >= s.length() || s.charAt(i) != c) {
                throw error("expected '" + c + "'");
            }
            i++;
        }

        private String string() {
            expect('"');
            StringBuilder b = new StringBuilder();
            while (true) {
                if (i >= s.length()) {
                    throw error("unterminated string");
                }
                char c = s.charAt(i++);
                if (c == '"') {
                    return b.toString();
                }
                if (c != '\\') {
                    b.append(c);
                    continue;
                }
                char e = s.charAt(i++);
                switch (e) {
                    case 'b' -> b.append('\b');
                    case 'f' -> b.append('\f');
                    case 'n' -> b.append('\n');
                    case 'r' -> b.append('\r');
                    case 't' -> b.append('\t');
                    case 'u' -> {
                        b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                        i += 4;
                    }
                    default -> b.append(e);
                }
            }
        }

        static String encode(Object v) {
            StringBuilder b = new StringBuilder();
            write(b, v);
            return b.toString();
        }

        private static void write(StringBuilder b, Object v) {
            if (v instanceof Map<?, ?> m) {
                b.append('{');
                String sep = "";
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    b.append(sep);
                    quote(b, e.getKey().toString());
                    b.append(':');
                    write(b, e.getValue());
                    sep = ",";
                }
                b.append('}');
            } else if (v instanceof List<?> l) {
                b.append('[');
                String sep = "";
                for (Object o : l) {
                    b.append(sep);
                    write(b, o);
                    sep = ",";
                }
                b.append(']');
            } else if (v instanceof String str) {
                quote(b, str);
            } else if (v == null) {
                b.append("null");
            } else {
                b.append(v); // Number, Boolean, NULL
            }
        }

        private static void quote(StringBuilder b, String str) {
            b.append('"');
            for (char c : str.toCharArray()) {
                switch (c) {
                    case '"' -> b.append("\\\"");
                    case '\\' -> b.append("\\\\");
                    case '\n' -> b.append("\\n");
                    case '\r' -> b.append("\\r");
                    case '\t' -> b.append("\\t");
                    default -> {
                        if (c < 0x20) {
                            b.append(String.format("\\u%04x", (int) c));
                        } else {
                            b.append(c);
                        }
                    }
                }
            }
            b.append('"');
        }
    }
}
