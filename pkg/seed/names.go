package seed

// name is a name in its own script with a Latin spelling for email handles.
type name struct{ native, latin string }

// locale is a population of contacts: their names, language, country and phone numbers.
type locale struct {
	language, country string
	first, last       []name
	domains           []string
	phone             phonePlan
	weight            int
	// chat is the messaging app people of the locale favour besides the common ones.
	chat string
}

// phonePlan makes unique, possible mobile numbers of a region: +cc, one of the prefixes, and
// width digits drawn without repetition from [low, low+span).
type phonePlan struct {
	cc       string
	prefixes []string
	width    int
	low      int64
	span     int64
}

func latin(ns ...string) []name {
	out := make([]name, len(ns))
	for i, n := range ns {
		out[i] = name{n, ""}
	}
	return out
}

func pairs(ps ...string) []name {
	out := make([]name, 0, len(ps)/2)
	for i := 0; i+1 < len(ps); i += 2 {
		out = append(out, name{ps[i], ps[i+1]})
	}
	return out
}

var locales = []locale{
	{language: "en", country: "US", weight: 16, chat: "messenger",
		first:   latin("James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Christopher", "Karen", "Daniel", "Emily", "Matthew", "Ashley", "Anthony", "Olivia"),
		last:    latin("Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson", "Taylor", "Thomas", "Moore", "Jackson", "Martin", "Lee", "Thompson", "White", "Harris", "Clark", "Lewis", "Walker", "Young", "Allen", "King"),
		domains: []string{"gmail.com", "yahoo.com", "outlook.com", "icloud.com", "hotmail.com"},
		phone:   phonePlan{cc: "1", prefixes: []string{"202", "212", "305", "312", "415", "512", "617", "702", "818", "206"}, width: 7, low: 2_000_000, span: 8_000_000}},
	{language: "en", country: "GB", weight: 6, chat: "whatsapp",
		first:   latin("Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Noah", "Mia", "Jack", "Ivy", "Leo", "Freya", "Oscar", "Lily", "Charlie", "Florence"),
		last:    latin("Taylor", "Davies", "Evans", "Thomas", "Roberts", "Walker", "Wright", "Robinson", "Thompson", "Hughes", "Edwards", "Green", "Hall", "Wood"),
		domains: []string{"gmail.com", "btinternet.com", "outlook.com", "yahoo.co.uk"},
		phone:   phonePlan{cc: "44", prefixes: []string{"74", "75", "77", "78", "79"}, width: 8, low: 0, span: 100_000_000}},
	{language: "es", country: "MX", weight: 10, chat: "whatsapp",
		first:   pairs("José", "jose", "María", "maria", "Guadalupe", "guadalupe", "Juan", "juan", "Sofía", "sofia", "Luis", "luis", "Camila", "camila", "Carlos", "carlos", "Valentina", "valentina", "Jesús", "jesus", "Ximena", "ximena", "Miguel Ángel", "miguelangel", "Fernanda", "fernanda", "Alejandro", "alejandro"),
		last:    pairs("García", "garcia", "Hernández", "hernandez", "López", "lopez", "Martínez", "martinez", "González", "gonzalez", "Pérez", "perez", "Rodríguez", "rodriguez", "Sánchez", "sanchez", "Ramírez", "ramirez", "Cruz", "cruz", "Flores", "flores", "Gómez", "gomez"),
		domains: []string{"gmail.com", "hotmail.com", "outlook.com", "yahoo.com.mx"},
		phone:   phonePlan{cc: "52", prefixes: []string{"55", "33", "81", "22"}, width: 8, low: 0, span: 100_000_000}},
	{language: "pt-BR", country: "BR", weight: 10, chat: "whatsapp",
		first:   pairs("João", "joao", "Ana", "ana", "Pedro", "pedro", "Maria Eduarda", "mariaeduarda", "Lucas", "lucas", "Júlia", "julia", "Gabriel", "gabriel", "Beatriz", "beatriz", "Mateus", "mateus", "Larissa", "larissa", "Rafael", "rafael", "Letícia", "leticia"),
		last:    pairs("Silva", "silva", "Santos", "santos", "Oliveira", "oliveira", "Souza", "souza", "Rodrigues", "rodrigues", "Ferreira", "ferreira", "Alves", "alves", "Pereira", "pereira", "Lima", "lima", "Gomes", "gomes", "Conceição", "conceicao", "Araújo", "araujo"),
		domains: []string{"gmail.com", "hotmail.com", "uol.com.br", "bol.com.br", "outlook.com"},
		phone:   phonePlan{cc: "55", prefixes: []string{"119", "219", "319", "419", "519", "619"}, width: 8, low: 0, span: 100_000_000}},
	{language: "de", country: "DE", weight: 6, chat: "whatsapp",
		first:   pairs("Lukas", "lukas", "Anna", "anna", "Jürgen", "juergen", "Sophie", "sophie", "Maximilian", "maximilian", "Lena", "lena", "Felix", "felix", "Jörg", "joerg", "Hannah", "hannah", "Leonie", "leonie"),
		last:    pairs("Müller", "mueller", "Schmidt", "schmidt", "Schneider", "schneider", "Fischer", "fischer", "Weber", "weber", "Meyer", "meyer", "Wagner", "wagner", "Becker", "becker", "Schäfer", "schaefer", "Koch", "koch", "Groß", "gross"),
		domains: []string{"gmx.de", "web.de", "t-online.de", "gmail.com"},
		phone:   phonePlan{cc: "49", prefixes: []string{"151", "152", "157", "160", "170", "171", "176"}, width: 8, low: 0, span: 100_000_000}},
	{language: "fr", country: "FR", weight: 5, chat: "whatsapp",
		first:   pairs("Léa", "lea", "Hugo", "hugo", "Chloé", "chloe", "Louis", "louis", "Manon", "manon", "Gabriel", "gabriel", "Inès", "ines", "Raphaël", "raphael", "Camille", "camille", "Théo", "theo"),
		last:    pairs("Martin", "martin", "Bernard", "bernard", "Dubois", "dubois", "Thomas", "thomas", "Robert", "robert", "Richard", "richard", "Petit", "petit", "Durand", "durand", "Lefèvre", "lefevre", "Moreau", "moreau"),
		domains: []string{"orange.fr", "free.fr", "gmail.com", "laposte.net"},
		phone:   phonePlan{cc: "33", prefixes: []string{"6", "7"}, width: 8, low: 0, span: 100_000_000}},
	{language: "ru", country: "RU", weight: 7, chat: "telegram",
		first:   pairs("Иван", "ivan", "Мария", "maria", "Алексей", "alexey", "Анна", "anna", "Дмитрий", "dmitry", "Елена", "elena", "Сергей", "sergey", "Ольга", "olga", "Наталья", "natalya", "Михаил", "mikhail", "Татьяна", "tatyana", "Андрей", "andrey"),
		last:    pairs("Иванов", "ivanov", "Смирнов", "smirnov", "Кузнецов", "kuznetsov", "Попов", "popov", "Васильев", "vasiliev", "Петров", "petrov", "Соколов", "sokolov", "Михайлов", "mikhailov", "Новиков", "novikov", "Фёдоров", "fedorov"),
		domains: []string{"mail.ru", "yandex.ru", "gmail.com", "rambler.ru"},
		phone:   phonePlan{cc: "7", prefixes: []string{"903", "915", "916", "925", "926", "977"}, width: 7, low: 0, span: 10_000_000}},
	{language: "el", country: "GR", weight: 3, chat: "viber",
		first:   pairs("Γιώργος", "giorgos", "Μαρία", "maria", "Κωνσταντίνος", "konstantinos", "Ελένη", "eleni", "Δημήτρης", "dimitris", "Αικατερίνη", "aikaterini", "Νίκος", "nikos", "Σοφία", "sofia"),
		last:    pairs("Παπαδόπουλος", "papadopoulos", "Βασιλείου", "vasileiou", "Νικολάου", "nikolaou", "Γεωργίου", "georgiou", "Παπαδάκης", "papadakis", "Οικονόμου", "oikonomou", "Αντωνίου", "antoniou"),
		domains: []string{"gmail.com", "yahoo.gr", "hotmail.com", "otenet.gr"},
		phone:   phonePlan{cc: "30", prefixes: []string{"694", "695", "697", "698", "699"}, width: 7, low: 0, span: 10_000_000}},
	{language: "ar", country: "EG", weight: 6, chat: "whatsapp",
		first:   pairs("محمد", "mohamed", "فاطمة", "fatma", "أحمد", "ahmed", "مريم", "mariam", "محمود", "mahmoud", "نور", "nour", "عمر", "omar", "سارة", "sara", "يوسف", "youssef", "هدى", "hoda"),
		last:    pairs("حسن", "hassan", "علي", "ali", "إبراهيم", "ibrahim", "عبد الله", "abdallah", "السيد", "elsayed", "مصطفى", "mostafa", "خليل", "khalil", "سالم", "salem"),
		domains: []string{"gmail.com", "yahoo.com", "hotmail.com", "outlook.com"},
		phone:   phonePlan{cc: "20", prefixes: []string{"10", "11", "12", "15"}, width: 8, low: 0, span: 100_000_000}},
	{language: "hi", country: "IN", weight: 9, chat: "whatsapp",
		first:   pairs("राहुल", "rahul", "प्रिया", "priya", "अमित", "amit", "पूजा", "pooja", "विकास", "vikas", "नेहा", "neha", "अर्जुन", "arjun", "अंजलि", "anjali", "रोहित", "rohit", "कविता", "kavita"),
		last:    pairs("शर्मा", "sharma", "वर्मा", "verma", "गुप्ता", "gupta", "सिंह", "singh", "कुमार", "kumar", "पटेल", "patel", "यादव", "yadav", "जोशी", "joshi", "मेहता", "mehta"),
		domains: []string{"gmail.com", "yahoo.co.in", "rediffmail.com", "outlook.com"},
		phone:   phonePlan{cc: "91", prefixes: []string{"98", "99", "97", "96", "90", "88", "70"}, width: 8, low: 0, span: 100_000_000}},
	{language: "zh-Hans", country: "CN", weight: 6, chat: "wechat",
		first:   pairs("伟", "wei", "芳", "fang", "娜", "na", "敏", "min", "静", "jing", "强", "qiang", "磊", "lei", "洋", "yang", "艳", "yan", "杰", "jie", "婷", "ting", "浩然", "haoran"),
		last:    pairs("王", "wang", "李", "li", "张", "zhang", "刘", "liu", "陈", "chen", "杨", "yang", "黄", "huang", "赵", "zhao", "吴", "wu", "周", "zhou"),
		domains: []string{"qq.com", "163.com", "126.com", "sina.com"},
		phone:   phonePlan{cc: "86", prefixes: []string{"138", "139", "150", "158", "186", "188"}, width: 8, low: 0, span: 100_000_000}},
	{language: "ja", country: "JP", weight: 5, chat: "line",
		first:   pairs("翔太", "shota", "陽菜", "hina", "大翔", "hiroto", "結衣", "yui", "蓮", "ren", "さくら", "sakura", "悠真", "yuma", "美咲", "misaki"),
		last:    pairs("佐藤", "sato", "鈴木", "suzuki", "高橋", "takahashi", "田中", "tanaka", "伊藤", "ito", "渡辺", "watanabe", "山本", "yamamoto", "中村", "nakamura"),
		domains: []string{"gmail.com", "yahoo.co.jp", "docomo.ne.jp", "icloud.com"},
		phone:   phonePlan{cc: "81", prefixes: []string{"90", "80", "70"}, width: 8, low: 0, span: 100_000_000}},
	{language: "ko", country: "KR", weight: 4, chat: "line",
		first:   pairs("민준", "minjun", "서연", "seoyeon", "도윤", "doyun", "지우", "jiwoo", "하준", "hajun", "수아", "sua", "예준", "yejun", "하은", "haeun"),
		last:    pairs("김", "kim", "이", "lee", "박", "park", "최", "choi", "정", "jung", "강", "kang", "조", "cho", "윤", "yoon"),
		domains: []string{"naver.com", "daum.net", "gmail.com", "kakao.com"},
		phone:   phonePlan{cc: "82", prefixes: []string{"10"}, width: 8, low: 0, span: 100_000_000}},
	{language: "th", country: "TH", weight: 3, chat: "line",
		first:   pairs("สมชาย", "somchai", "สุดา", "suda", "ประเสริฐ", "prasert", "วิไล", "wilai", "อนันต์", "anan", "มาลี", "malee"),
		last:    pairs("ศรีสุข", "srisuk", "วงศ์ใหญ่", "wongyai", "แก้วมณี", "kaewmanee", "บุญมา", "boonma", "ทองดี", "thongdee"),
		domains: []string{"gmail.com", "hotmail.com", "yahoo.com"},
		phone:   phonePlan{cc: "66", prefixes: []string{"81", "86", "89", "91", "95"}, width: 7, low: 0, span: 10_000_000}},
	{language: "en", country: "NG", weight: 4, chat: "whatsapp",
		first:   latin("Chinedu", "Ngozi", "Adebayo", "Aisha", "Emeka", "Funmilayo", "Oluwaseun", "Chiamaka", "Ibrahim", "Yetunde", "Tunde", "Amaka"),
		last:    latin("Okafor", "Adeyemi", "Okonkwo", "Bello", "Eze", "Adebayo", "Nwosu", "Abubakar", "Ogunleye", "Obi"),
		domains: []string{"gmail.com", "yahoo.com", "outlook.com"},
		phone:   phonePlan{cc: "234", prefixes: []string{"803", "806", "813", "816", "703", "805"}, width: 7, low: 0, span: 10_000_000}},
}

var incomingTexts = []string{
	"Hi, my order hasn't arrived yet. Can you check?",
	"Hello! I'd like to change my delivery address.",
	"Is this item available in a larger size?",
	"I was charged twice for the same order.",
	"Can I get a refund? The product arrived damaged.",
	"How long does shipping to my city take?",
	"Thanks, that solved it!",
	"The tracking link doesn't work.",
	"Do you have a store near me?",
	"I forgot my password and the reset email never came.",
	"Can you send me the invoice again please?",
	"Is the promo code still valid?",
	"Ok, I'll wait. Thank you.",
	"My subscription renewed but I wanted to cancel it.",
	"Hola, ¿tienen envío gratis?",
	"Olá, meu pedido ainda não chegou.",
	"Здравствуйте, когда будет доставка?",
	"你好，我想查询一下订单。",
	"こんにちは、注文の状況を教えてください。",
	"مرحبا، أريد تغيير عنوان التوصيل",
	"नमस्ते, मेरा ऑर्डर कहाँ है?",
}

var outgoingTexts = []string{
	"Hi! Thanks for reaching out, let me look into that for you.",
	"I've checked your order: it left our warehouse yesterday and should arrive within 2 days.",
	"Sorry about that! I've issued a refund; you'll see it in 3-5 business days.",
	"Could you send me your order number, please?",
	"Done! Your address is updated.",
	"Here is the new tracking link. Anything else I can help with?",
	"I've sent the invoice to your email again.",
	"The promo code is valid until the end of the month.",
	"Your subscription is cancelled and you won't be charged again.",
	"Glad I could help! Have a great day.",
}

var summaries = []string{
	"Order located, delivery date confirmed.",
	"Refund issued for damaged item.",
	"Duplicate charge reversed.",
	"Address updated before dispatch.",
	"Customer stopped responding.",
	"Password reset link resent; customer logged in.",
	"Subscription cancelled at customer's request.",
	"Explained shipping times and costs.",
	"Spam message.",
	"Invoice resent.",
}

var defaultCategories = []string{"resolved", "refund", "shipping", "billing", "no_response", "spam"}
