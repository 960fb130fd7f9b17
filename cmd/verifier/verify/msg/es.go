package msg

// es is Spanish, the default language: every key is here first.
var es = map[string]string{
	"verdict.valid":          "VÁLIDO.",
	"verdict.revoked":        "REVOCADO.",
	"verdict.not_valid":      "NO VÁLIDO.",
	"verdict.no_document":    "(Se comprobó el recibo sin el documento.)",
	"verdict.registered":     "Este documento fue registrado por {issuer} el {when}.",
	"verdict.confirmed":      "Confirmaron el registro {signers}, con el {share} del poder de voto.",
	"verdict.not_revoked":    "No constaba como revocado a fecha de {when}.",
	"verdict.revoked_on":     "Fue revocado el {when} por {by}: {reason}.",
	"verdict.status_as_of":   "Estado a fecha de {when}.",
	"verdict.live_checked":   "Estado comprobado en vivo con {checked} de {tried} nodos.",
	"verdict.live_unchecked": "No se pudo comprobar si fue revocado después de esa fecha.",
	"verdict.live_disagree":  "Atención: los nodos no coinciden: según {revoking} está revocado, y según {other} no lo está, con un estado igual o posterior.",
	"verdict.live_stale":     "Atención: {node} responde con un estado antiguo (altura {height}; el más reciente es de la altura {newest}).",
	"verdict.live_failed":    "Sin respuesta válida de: {nodes}.",
	"verdict.trust":          "Paquete de confianza: huella SHA-256 {fingerprint}.",

	"list.and":       " y ",
	"list.others":    "otros {count} ministerios",
	"who.governance": "decisión del consorcio (propuesta {id})",
	"who.agency":     "la agencia {id}",

	"time.date":       "{day} de {month} de {year}",
	"time.month.1":    "enero",
	"time.month.2":    "febrero",
	"time.month.3":    "marzo",
	"time.month.4":    "abril",
	"time.month.5":    "mayo",
	"time.month.6":    "junio",
	"time.month.7":    "julio",
	"time.month.8":    "agosto",
	"time.month.9":    "septiembre",
	"time.month.10":   "octubre",
	"time.month.11":   "noviembre",
	"time.month.12":   "diciembre",
	"time.at":         "{date} a las {time} UTC",
	"time.at_one":     "{date} a la {time} UTC",
	"time.local":      "{time} {zone}, hora local",
	"time.local_date": "{date} {time} {zone}, hora local",
	"num.decimal":     ",",
	"num.percent":     "{n} %",

	"reason.malformed_receipt":         "El archivo del recibo está dañado o no es un recibo del notario, así que no prueba nada.",
	"reason.wrong_chain":               "El recibo pertenece a una red notarial distinta de la que describe su paquete de confianza.",
	"reason.document_mismatch":         "El documento no coincide con el recibo: no es el documento registrado o ha sido modificado.",
	"reason.proof_invalid":             "La prueba del recibo de que el documento consta en la red notarial no es correcta.",
	"reason.signature_invalid":         "Una firma de un ministerio en el recibo no es válida: el recibo ha sido alterado o falsificado.",
	"reason.insufficient_signatures":   "El recibo no está firmado por suficientes ministerios: debe confirmarlo más de dos tercios del poder de voto.",
	"reason.validator_set_not_reached": "El recibo está firmado por validadores que no se pueden vincular con los miembros del consorcio de su paquete de confianza.",

	"revocation.superseded":      "sustituido por un documento más reciente",
	"revocation.issued-in-error": "emitido por error",
	"revocation.fraud":           "obtenido de forma fraudulenta",
	"revocation.expired":         "su validez terminó",
	"revocation.court-order":     "por orden judicial",
	"revocation.other":           "otro motivo",

	"live.receipt":         "el propio recibo",
	"live.node":            "{node} ({error})",
	"live.err.timeout":     "no respondió en {seconds} s",
	"live.err.unreachable": "no se pudo conectar",
	"live.err.http":        "respondió con el código HTTP {code}",
	"live.err.not_found":   "dice que no conoce este documento",
	"live.err.busy":        "está ocupado o sincronizándose",
	"live.err.too_large":   "envió más de {limit}",
	"live.err.malformed":   "no envió un estado con el formato esperado",
	"live.err.mismatch":    "envió el estado de otro documento o de otra red",
	"live.err.not_valid":   "envió un estado cuya prueba no es correcta",

	"step.receipt_format":    "Formato del recibo",
	"step.chain_id":          "Red notarial",
	"step.validator_chain":   "Cambios de validadores",
	"step.anchor_checkpoint": "Bloque del registro",
	"step.status_checkpoint": "Bloque del estado",
	"step.batch_record":      "Lote",
	"step.issuer_record":     "Organismo emisor",
	"step.merkle_inclusion":  "Inclusión en el lote",
	"step.status":            "Revocación",
	"step.document":          "Documento",
	"step.live_status":       "Estado en vivo",

	"cli.root.short": "comprueba un documento registrado en el notario; vea y controle quién usa sus datos",
	"cli.root.long": `verifier comprueba documentos registrados en la cadena del consorcio GobTechLab
Notary: el documento, su recibo (*.receipt.json) y el paquete de confianza del
consorcio (trust.json) bastan. No confía en ningún nodo, solo en las firmas de
más de dos tercios del poder de voto de conjuntos de validadores que se
encadenan desde el paquete de confianza.

  verifier verify DOCUMENTO RECIBO          comprueba un documento
  verifier code CÓDIGO [--file DOCUMENTO]   comprueba un documento por su código de verificación
  verifier inspect RECIBO                   muestra lo que dice un recibo (sin verificar)
  verifier trust show|fingerprint           el paquete de confianza en uso y su huella
  verifier version                          versión, commit y versión de CometBFT

Como ciudadano, con su propia clave, hablando con un nodo (--node):

  verifier citizen keygen [--out DIR]       crea su identidad de ciudadano
  verifier consent grant|withdraw|list      gestiona sus consentimientos
  verifier accesses --trust TRUST           quién obtuvo datos suyos, verificado

Como testigo del registro del consorcio (un tribunal de cuentas, una universidad):

  verifier witness init|serve               cofirma los puntos de control del registro (docs/witness.md)

Códigos de salida de verify: 0 válido y no revocado, 3 válido pero revocado,
1 no válido, 2 error de uso o archivo ilegible. De los comandos de ciudadano:
0 hecho, 1 rechazado o no verificado, 2 error de uso, 4 nodo inalcanzable.
Un comando interrumpido con SIGINT (Ctrl-C) o SIGTERM termina con 130.
Las entradas deben ser archivos normales: una tubería, un dispositivo o una
carpeta se rechazan (salida 2). Los textos siguen --lang, o LC_ALL, LC_MESSAGES
y LANG (es, en, ca, gl, eu; español por defecto). Cada opción puede darse
también con NOTARY_<OPCIÓN>.`,
	"cli.verify.short": "comprueba un documento con su recibo",
	"cli.verify.long": `verify comprueba que DOCUMENTO es el documento que el recibo RECIBO prueba
registrado en la cadena del paquete de confianza, y si ha sido revocado.
Escribe un párrafo para el ciudadano (o, con --output json, cada paso y su
resultado).

El paquete de confianza se busca en este orden: --trust, la variable
NOTARY_TRUST, {config}, y el incluido en el programa al publicarlo, si lo
hay. Se escribe su huella SHA-256, que el consorcio publica para cotejarla.

El recibo trae el estado de revocación de la fecha en que se obtuvo. Para
saber si el documento se revocó después, verify pregunta a la vez a los
nodos públicos del paquete de confianza y a los de --node, con un límite de
{seconds} s por nodo y de 1 MB por respuesta; cada respuesta se verifica
como el propio recibo (firmas de más de dos tercios del poder de voto). Con
--offline no usa la red y dice que no pudo comprobarlo.

Códigos de salida: 0 válido y no revocado, 3 válido pero revocado (también
si un nodo prueba una revocación posterior), 1 no válido, 2 error de uso o
archivo ilegible.`,
	"cli.flag.trust":   "paquete de confianza del consorcio (trust.json)",
	"cli.flag.node":    "URL de un nodo público al que preguntar el estado actual (repetible)",
	"cli.flag.offline": "no usar la red: solo el estado que trae el recibo",
	"cli.flag.lang":    "idioma de los textos: es, en, ca, gl o eu (por defecto: LANG, si no español)",
	"cli.flag.tz":      "zona horaria de las horas locales, p. ej. Europe/Madrid (por defecto: la del sistema)",

	"cli.err.no_trust":      "No se encontró el paquete de confianza: indíquelo con --trust, con la variable NOTARY_TRUST o póngalo en {path}.",
	"cli.err.trust_read":    "No se pudo leer el paquete de confianza {path}: {error}",
	"cli.err.trust_invalid": "El paquete de confianza {path} no es válido: {error}",
	"cli.err.receipt_read":  "No se pudo leer el recibo {path}: {error}",
	"cli.err.document_read": "No se pudo leer el documento {path}: {error}",
	"cli.err.lang":          "Idioma {value} desconocido: use es, en, ca, gl o eu.",
	"cli.err.node_url":      "--node {value}: no es una dirección http:// o https:// válida.",
	"cli.err.offline_node":  "--offline y --node no pueden usarse juntos.",
	"cli.err.args":          "Indique el documento y su recibo: verifier verify DOCUMENTO RECIBO.",

	"cli.usage.usage":        "Uso:",
	"cli.usage.commands":     "Comandos:",
	"cli.usage.flags":        "Opciones:",
	"cli.usage.global_flags": "Opciones globales:",
	"cli.usage.more":         "Use «{command} [comando] --help» para saber más de un comando.",

	"verdict.code_no_document":  "(Se comprobó por su código de verificación, sin el documento.)",
	"verdict.code_not_found":    "NO ENCONTRADO. No hay ningún documento registrado con el código de verificación {code}.",
	"verdict.receipt_saved":     "Recibo guardado en {path}.",
	"verdict.receipt_not_saved": "No se guardó el recibo: el fichero no es el documento registrado con este código.",
	"code.err.empty":            "No se ha indicado ningún código de verificación.",
	"code.err.symbol":           "El carácter {position} del código, {char}, no se usa en los códigos de verificación.",
	"code.err.confusable":       "El carácter {position} del código, {char}, no se usa en los códigos de verificación (nunca llevan 0, O, 1, I ni L).",
	"code.err.length":           "El código tiene {count} caracteres; un código de verificación tiene {want} (sin contar espacios ni guiones).",
	"code.err.check":            "El código de verificación no es correcto: hay un carácter mal escrito o dos intercambiados. Compruébelo en el documento.",
	"code.err.link":             "El enlace no contiene ningún código de verificación.",
	"cli.code.short":            "comprobar el registro de un documento por su código de verificación",
	"cli.code.long": `code comprueba el registro del documento cuyo código de verificación es
CÓDIGO (tal como figura impreso, agrupado o no, o el enlace de su código QR).
Un código mal escrito se rechaza aquí, antes de preguntar nada. El código no
sale de este ordenador: a los nodos se les pregunta por una clave derivada de
él.

Se pregunta por turno a los nodos públicos del paquete de confianza y a los
de --node por el recibo del documento registrado con el código; el primer
recibo que se verifica con el paquete de confianza (firmas de más de dos
tercios del poder de voto) da el nombre registrado del organismo emisor, la
fecha de registro y el estado, y a los demás nodos se les pregunta el estado
actual, esperando como mucho {seconds} s a cada uno.

Con --file, dice si ese fichero es exactamente el documento registrado con el
código, con las mismas frases que verify; --save-receipt escribe entonces el
recibo completo del documento, que verify acepta sin conexión.

Códigos de salida: 0 válido y no revocado, 3 válido pero revocado, 1 no
válido (también: el fichero no es el documento registrado), 5 no hay ningún
documento registrado con el código, 2 error de uso, código mal escrito o
fichero ilegible, 4 no se pudo preguntar a ningún nodo.`,
	"cli.flag.file":            "el documento que se compara con el registro (no se envía a ninguna parte)",
	"cli.flag.endpoint":        "URL de un nodo público al que preguntar también (repetible)",
	"cli.flag.save_receipt":    "escribir el recibo completo del documento en este fichero",
	"cli.err.code_args":        "Indique el código de verificación: verifier code CÓDIGO.",
	"cli.err.endpoint_url":     "--node {value}: no es una dirección http:// o https:// válida.",
	"cli.err.no_endpoints":     "El paquete de confianza no incluye nodos públicos a los que preguntar: indique uno con --node.",
	"cli.err.code_unreachable": "Ningún nodo respondió sobre el código de verificación: {nodes}.",
	"cli.err.receipt_write":    "No se pudo escribir el recibo {path}: {error}",

	"web.err_no_document":  "Elija el documento que quiere comprobar.",
	"web.no_endpoints":     "El paquete de confianza no indica nodos que consultar: el estado es el que trae el recibo.",
	"web.page_title":       "Verificar un documento registrado",
	"web.skip_link":        "Saltar al formulario",
	"web.intro":            "Compruebe que un documento fue registrado por una administración y si ha sido revocado. El documento no sale de su equipo: se comprueba en este navegador.",
	"web.language":         "Idioma",
	"web.document":         "Documento",
	"web.document_hint":    "El archivo que quiere comprobar. No se envía a ningún sitio.",
	"web.receipt":          "Recibo",
	"web.receipt_hint":     "El recibo de registro (archivo .receipt.json) que acompaña al documento.",
	"web.drop_hint":        "También puede arrastrar aquí el documento y su recibo.",
	"web.chosen":           "Elegido: {name} ({size})",
	"web.none_chosen":      "Ningún archivo elegido.",
	"web.receipt_info":     "Recibo de la red {chain}, huella {alg} {digest}.",
	"web.mode":             "Estado de revocación",
	"web.mode_online":      "Consultar el estado actual en los nodos del consorcio",
	"web.mode_offline":     "Sin conexión: usar solo el estado que trae el recibo",
	"web.verify":           "Comprobar",
	"web.reset":            "Empezar de nuevo",
	"web.hashing":          "Calculando la huella del documento…",
	"web.asking":           "Consultando {n} nodos del consorcio…",
	"web.checking":         "Comprobando las firmas y las pruebas…",
	"web.result":           "Resultado",
	"web.offline_note":     "Sin conexión: el estado es el que trae el recibo; no se ha comprobado si el documento se revocó después.",
	"web.offline_auto":     "No se pudo contactar con ningún nodo: el estado es el que trae el recibo.",
	"web.details":          "Detalles técnicos",
	"web.steps":            "Comprobaciones",
	"web.nodes":            "Nodos consultados",
	"web.step_ok":          "correcto",
	"web.step_failed":      "falló",
	"web.step_skipped":     "omitido",
	"web.step_not_checked": "no comprobado",
	"web.trust":            "Paquete de confianza",
	"web.fingerprint":      "Huella (SHA-256) del paquete de confianza: {fp}",
	"web.trust_chain":      "Red {chain}, {n} validadores.",
	"web.err_no_receipt":   "Elija el recibo del documento.",
	"web.err_receipt":      "El archivo elegido como recibo no es un recibo del notario.",
	"web.err_trust":        "No se pudo cargar el paquete de confianza (trust.json) de esta página.",
	"web.err_core":         "No se pudo cargar el verificador en este navegador.",
	"web.err_document":     "No se pudo leer el documento.",
	"web.err_verify":       "No se pudo completar la comprobación: {error}",
	"web.node_timeout":     "sin respuesta en {s} s",
	"web.node_failed":      "no se pudo consultar",
	"web.footer":           "Verificador de recibos de GobTechLab Notary. Una vez cargada, esta página funciona sin conexión.",

	// The web verifier's verification codes.
	"web.receipt_heading":     "Con el documento y su recibo",
	"web.code_heading":        "Con un código de verificación",
	"web.code_intro":          "Si el documento lleva impreso un código de verificación o un código QR, escriba el código o abra el enlace del QR: verá qué administración lo registró, cuándo y si sigue vigente. El código no sale de este navegador: a los nodos solo se les pide una huella suya.",
	"web.code":                "Código de verificación",
	"web.code_hint":           "20 caracteres, como 7KQ4M-XW9TR-2HDNP-C8VE6. Los guiones y los espacios son opcionales, y da igual escribir en mayúsculas o en minúsculas.",
	"web.code_document":       "Documento (opcional)",
	"web.code_document_hint":  "Si tiene el archivo del documento, añádalo para comprobar que es exactamente el registrado. No se envía a ningún sitio.",
	"web.code_verify":         "Comprobar el código",
	"web.code_err_empty":      "Escriba el código de verificación.",
	"web.code_err_symbol":     "El carácter {pos}, «{char}», no se usa en los códigos de verificación.",
	"web.code_err_confusable": "El carácter {pos}, «{char}», no se usa en los códigos de verificación: nunca llevan 0, O, 1, I ni L.",
	"web.code_err_length":     "El código tiene {n} caracteres y debe tener {want} (sin contar espacios ni guiones).",
	"web.code_err_check":      "El código no es correcto: hay un carácter mal escrito o dos intercambiados. Revíselo.",
	"web.code_err_link":       "El enlace no contiene ningún código de verificación.",
	"web.code_asking":         "Buscando el código en los nodos del consorcio…",
	"web.code_not_found":      "No hay ningún documento registrado con este código. Compruebe que lo ha escrito bien.",
	"web.code_unreachable":    "No se pudo consultar a ningún nodo del consorcio: un código solo se puede comprobar con conexión.",
	"web.code_no_endpoints":   "El paquete de confianza no indica nodos que consultar: un código no se puede comprobar sin ellos.",
	"web.code_other_key":      "El nodo {node} respondió con el registro de otro código, así que su respuesta no prueba nada.",
	"web.code_no_document":    "(Se comprobó el código sin el documento.)",
	"web.step_code":           "Código de verificación",
	"web.code_agency":         "Registrado por",
	"web.code_registered":     "Fecha de registro",
	"web.code_status":         "Estado",
	"web.code_not_revoked":    "Vigente: no consta como revocado",
	"web.code_revoked_on":     "Revocado el {date}: {reason}",
	"web.download":            "Descargar el recibo completo",
	"web.download_hint":       "Guárdelo junto al documento: con los dos se puede comprobar más adelante, también sin conexión.",

	"verdict.registered_log":           "Este documento fue registrado por el organismo {agency} en el bloque {height}, el {when}.",
	"verdict.log_checkpoint":           "Consta en el registro de evidencias del consorcio hasta el punto de control de tamaño {size}, firmado por {signers}, que suman el {share} del poder de voto.",
	"verdict.log_witnesses":            "El punto de control está cofirmado por testigos independientes: {witnesses}.",
	"verdict.log_no_status":            "Si fue revocado no forma parte de este recibo: solo puede comprobarse en línea, preguntando a los nodos del consorcio.",
	"reason.receipt_v2_required":       "Su paquete de confianza solo acepta recibos de la versión 2, ligados al registro de evidencias del consorcio; renueve este recibo (verifier renew).",
	"reason.checkpoint_fork":           "El recibo contradice el punto de control del registro de evidencias de su paquete de confianza: la historia que muestra fue reescrita.",
	"reason.insufficient_cosignatures": "El punto de control del registro de evidencias del recibo no está cofirmado por suficientes testigos independientes de los que exige su paquete de confianza.",
	"step.trust_policy":                "Política de confianza",
	"step.log_checkpoint":              "Punto de control del registro de evidencias",
	"step.log_inclusion":               "Inclusión en el registro de evidencias",
}
